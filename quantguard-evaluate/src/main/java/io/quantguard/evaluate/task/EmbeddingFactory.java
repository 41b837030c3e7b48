package io.quantguard.evaluate.task;

import io.quantguard.evaluate.Task;
import io.quantguard.evaluate.TaskFactory;
import io.quantguard.evaluate.TaskOptions;

/** Registers {@code embedding} with the {@link java.util.ServiceLoader}. */
public final class EmbeddingFactory implements TaskFactory {
  @Override
  public String name() {
    return "embedding";
  }

  @Override
  public String description() {
    return "pooled, normalized embeddings; cosine and SQNR to the baseline"
        + " (output=last_hidden_state, pooling=mean|cls, normalize=true)";
  }

  @Override
  public Task<?> create(TaskOptions options) {
    return new EmbeddingTask(options);
  }
}

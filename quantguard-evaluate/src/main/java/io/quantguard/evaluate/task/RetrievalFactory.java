package io.quantguard.evaluate.task;

import io.quantguard.evaluate.Task;
import io.quantguard.evaluate.TaskFactory;
import io.quantguard.evaluate.TaskOptions;

/** Registers {@code retrieval} with the {@link java.util.ServiceLoader}. */
public final class RetrievalFactory implements TaskFactory {
  @Override
  public String name() {
    return "retrieval";
  }

  @Override
  public String description() {
    return "queries vs corpus (doc i relevant to query i); recall@k, MRR, nDCG@k, top-k overlap"
        + " (queries=queries, corpus=corpus, k=10, output=, pooling=mean|cls)";
  }

  @Override
  public Task<?> create(TaskOptions options) {
    return new RetrievalTask(options);
  }
}

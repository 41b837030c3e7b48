package io.quantguard.evaluate.task;

import io.quantguard.evaluate.Task;
import io.quantguard.evaluate.TaskFactory;
import io.quantguard.evaluate.TaskOptions;

/** Registers {@code classification} with the {@link java.util.ServiceLoader}. */
public final class ClassificationFactory implements TaskFactory {
  @Override
  public String name() {
    return "classification";
  }

  @Override
  public String description() {
    return "class scores → label; accuracy, F1, top-k, ECE, flips, McNemar"
        + " (output=, k=5, scores=logits|probabilities, classes=a,b,...)";
  }

  @Override
  public Task<?> create(TaskOptions options) {
    return new ClassificationTask(options);
  }
}

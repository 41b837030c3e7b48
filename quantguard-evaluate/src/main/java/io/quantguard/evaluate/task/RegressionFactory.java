package io.quantguard.evaluate.task;

import io.quantguard.evaluate.Task;
import io.quantguard.evaluate.TaskFactory;
import io.quantguard.evaluate.TaskOptions;

/** Registers {@code regression} with the {@link java.util.ServiceLoader}. */
public final class RegressionFactory implements TaskFactory {
  @Override
  public String name() {
    return "regression";
  }

  @Override
  public String description() {
    return "one number per sample; MAE and RMSE against the target attribute or label"
        + " (output=, target=target)";
  }

  @Override
  public Task<?> create(TaskOptions options) {
    return new RegressionTask(options);
  }
}

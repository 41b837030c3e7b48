package io.quantguard.evaluate.task;

import io.quantguard.evaluate.Task;
import io.quantguard.evaluate.TaskFactory;
import io.quantguard.evaluate.TaskOptions;

/** Registers {@code raw} (raw output tensors) with the {@link java.util.ServiceLoader}. */
public final class RawTensorFactory implements TaskFactory {
  @Override
  public String name() {
    return "raw";
  }

  @Override
  public String description() {
    return "raw output tensors; cosine, SQNR dB and max abs error to the baseline (outputs=a,b)";
  }

  @Override
  public Task<?> create(TaskOptions options) {
    return new RawTensorTask(options);
  }
}

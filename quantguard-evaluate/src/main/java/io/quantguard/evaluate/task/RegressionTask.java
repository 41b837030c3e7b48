package io.quantguard.evaluate.task;

import io.quantguard.evaluate.PairedMetrics;
import io.quantguard.evaluate.Task;
import io.quantguard.evaluate.TaskOptions;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Regression: one number per sample from an output of shape [batch] or [batch, 1], scored against
 * the sample attribute {@code target} (or the integer label) with MAE and RMSE, and against the
 * baseline's number. Options: {@code output}, {@code target=target} (the attribute name).
 */
final class RegressionTask implements Task<float[]> {
  private final @Nullable String output;
  private final String target;

  RegressionTask(TaskOptions o) {
    this.output = o.string("output");
    this.target = o.string("target", "target");
  }

  @Override
  public String name() {
    return "regression";
  }

  @Override
  public List<String> outputs(String model, List<String> modelOutputs) {
    return List.of(Outputs.pick(name(), model, modelOutputs, output));
  }

  @Override
  public float[] predict(Batch batch, Map<String, Tensor> outputs) {
    Map.Entry<String, Tensor> e = outputs.entrySet().iterator().next();
    Tensor t = e.getValue();
    if (t.elementCount() != t.batchSize() || (t.rank() != 1 && t.rank() != 2)) {
      throw new InvalidInputException(
          "output '" + e.getKey() + "'",
          "has shape " + Arrays.toString(t.shape()) + "; regression needs [batch] or [batch, 1]",
          "pick the right output with ?output=NAME");
    }
    return t.toFloats();
  }

  @Override
  public PairedMetrics<float[]> newMetrics() {
    return new RegressionMetrics(target);
  }
}

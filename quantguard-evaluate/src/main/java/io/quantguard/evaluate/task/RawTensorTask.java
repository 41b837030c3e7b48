package io.quantguard.evaluate.task;

import io.quantguard.evaluate.PairedMetrics;
import io.quantguard.evaluate.Task;
import io.quantguard.evaluate.TaskOptions;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Raw tensors: no task semantics, just how closely the model's outputs follow the baseline's
 * (cosine, SQNR, max abs error; see {@link io.quantguard.evaluate.TensorAgreement}), per sample
 * over all chosen outputs together. Options: {@code outputs=a,b} (default: every output). Useful
 * for models without a task head and for intermediate tensors.
 */
final class RawTensorTask implements Task<RawOutputs> {
  private final List<String> outputs;

  RawTensorTask(TaskOptions o) {
    this.outputs = List.copyOf(o.list("outputs"));
  }

  @Override
  public String name() {
    return "raw";
  }

  @Override
  public List<String> outputs(String model, List<String> modelOutputs) {
    if (outputs.isEmpty()) {
      return modelOutputs;
    }
    for (String o : outputs) {
      Outputs.pick(name(), model, modelOutputs, o);
    }
    return outputs;
  }

  @Override
  public RawOutputs predict(Batch batch, Map<String, Tensor> out) {
    List<float[]> values = new ArrayList<>();
    int[] widths = new int[out.size()];
    int rows = batch.size();
    int i = 0;
    for (Map.Entry<String, Tensor> e : out.entrySet()) {
      Tensor t = e.getValue();
      if (t.rank() == 0 || t.batchSize() != rows) {
        throw new InvalidInputException(
            "output '" + e.getKey() + "'",
            "has shape " + Arrays.toString(t.shape()) + ", not one row per sample of the batch",
            "compare only batched outputs (?outputs=a,b)");
      }
      values.add(t.toFloats());
      widths[i++] = (int) (t.elementCount() / rows);
    }
    return new RawOutputs(values, widths, rows);
  }

  @Override
  public PairedMetrics<RawOutputs> newMetrics() {
    return new RawTensorMetrics();
  }
}

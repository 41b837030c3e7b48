package io.quantguard.evaluate.task;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.Tensor;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** Picks and checks the model outputs a task reads, with errors that name model and output. */
final class Outputs {
  private Outputs() {}

  /** {@code wanted} if the model has it; the model's first output when {@code wanted} is null. */
  static String pick(
      String task, String model, List<String> modelOutputs, @Nullable String wanted) {
    if (wanted == null) {
      return modelOutputs.get(0);
    }
    if (!modelOutputs.contains(wanted)) {
      throw new InvalidInputException(
          model,
          "has no output '"
              + wanted
              + "' for the "
              + task
              + " task (outputs: "
              + modelOutputs
              + ")",
          "name one of its outputs with ?output=NAME in the task spec");
    }
    return wanted;
  }

  static Tensor get(Map<String, Tensor> outputs, String name) {
    Tensor t = outputs.get(name);
    if (t == null) {
      throw new IllegalStateException("output " + name + " was not computed");
    }
    return t;
  }

  /** The output as a float matrix [n, width]; rejects other ranks. */
  static float[] matrix(Tensor t, String name, String expect) {
    long[] s = t.shape();
    if (s.length != 2) {
      throw new InvalidInputException(
          "output '" + name + "'",
          "has shape " + java.util.Arrays.toString(s) + " but the task expects " + expect,
          "pick the right output with ?output=NAME");
    }
    return t.toFloats();
  }
}

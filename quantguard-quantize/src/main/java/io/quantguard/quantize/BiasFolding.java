package io.quantguard.quantize;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.Graph;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/** Finds the bias Add that a fused matrix-multiply operator can take as its bias input. */
final class BiasFolding {
  private BiasFolding() {}

  /**
   * The Add that is the only consumer of {@code output} and adds a constant float vector of {@code
   * cols} elements to it, or null.
   */
  static @Nullable Node foldableAdd(Graph g, String output, long cols) {
    if (g.isGraphOutput(output) || g.consumers(output).size() != 1) {
      return null;
    }
    Node add = g.consumers(output).get(0);
    if (!add.opType().equals("Add") || !add.domain().isEmpty()) {
      return null;
    }
    String other = add.input(0).equals(output) ? add.input(1) : add.input(0);
    Optional<TensorProto> t = g.initializer(other);
    if (t.isEmpty()
        || t.get().getDataType() != DataType.FLOAT.code()
        || t.get().getDimsCount() != 1
        || t.get().getDims(0) != cols) {
      return null;
    }
    return add;
  }
}

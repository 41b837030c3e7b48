package io.quantguard.quantize;

import io.quantguard.onnx.Graph;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.proto.Onnx.AttributeProto;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import java.util.ArrayList;
import org.jspecify.annotations.Nullable;

/** Normalizations before quantization, so every constant tensor is an initializer. */
final class GraphCleanup {
  private GraphCleanup() {}

  /**
   * Turns {@code Constant} nodes into initializers of the same name. Weights stored as Constant
   * nodes (some exporters do that) are then found like any other weight.
   */
  static int constantsToInitializers(Graph g) {
    int n = 0;
    for (Node node : new ArrayList<>(g.nodes())) {
      if (!node.opType().equals("Constant")
          || !(node.domain().isEmpty() || node.domain().equals("ai.onnx"))
          || node.outputs().size() != 1) {
        continue;
      }
      TensorProto value = constantValue(node);
      if (value == null || g.isGraphOutput(node.output(0))) {
        continue;
      }
      g.removeNode(node);
      g.putInitializer(value.toBuilder().setName(node.output(0)).build());
      n++;
    }
    return n;
  }

  private static @Nullable TensorProto constantValue(Node node) {
    if (node.attributes().size() != 1) {
      return null;
    }
    AttributeProto a = node.attributes().get(0);
    String name = node.output(0);
    return switch (a.getName()) {
      case "value" -> a.getT();
      case "value_float" -> TensorCodec.scalar(name, a.getF());
      case "value_floats" -> {
        float[] f = new float[a.getFloatsCount()];
        for (int i = 0; i < f.length; i++) {
          f[i] = a.getFloats(i);
        }
        yield TensorCodec.fromFloats(name, new long[] {f.length}, f);
      }
      case "value_int" -> TensorCodec.fromLongs(name, new long[0], new long[] {a.getI()});
      case "value_ints" ->
          TensorCodec.fromLongs(
              name,
              new long[] {a.getIntsCount()},
              a.getIntsList().stream().mapToLong(Long::longValue).toArray());
      default -> null;
    };
  }
}

package io.quantguard.quantize;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.Graph;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.proto.Onnx.AttributeProto;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The residual join of a transformer block as one {@code com.microsoft.SkipLayerNormalization}:
 * LayerNormalization(Add(x + bias, skip)) over the last axis, the projection's bias Add folded in
 * as its bias input, where ONNX Runtime's optimizer left them apart (it needs static shapes that
 * exported models rarely declare). One pass over the activations instead of three; the dynamic pass
 * then leaves the projection's bias to this node.
 */
final class SkipLayerNormFusion {
  private SkipLayerNormFusion() {}

  /** Fuses every residual LayerNormalization of {@code model} in place; returns how many. */
  static int apply(OnnxModel model) {
    Graph g = model.graph();
    int fused = 0;
    for (Node ln : new ArrayList<>(g.nodes())) {
      if (!ln.opType().equals("LayerNormalization")
          || (ln.outputs().size() > 1 && !ln.output(1).isEmpty())
          || ln.inputs().size() < 3
          || (ln.intAttribute("axis", -1) != -1)) {
        continue;
      }
      Node add = soleProducer(g, ln.input(0), "Add");
      if (add == null || g.isInitializer(add.input(0)) || g.isInitializer(add.input(1))) {
        continue;
      }
      long hidden = vectorLength(g, ln.input(1));
      if (hidden <= 0 || vectorLength(g, ln.input(2)) != hidden) {
        continue;
      }
      String input = add.input(0);
      String skip = add.input(1);
      String bias = "";
      List<Node> gone = new ArrayList<>(List.of(add, ln));
      for (int side = 0; side < 2 && bias.isEmpty(); side++) {
        Node biasAdd = soleProducer(g, add.input(side), "Add");
        if (biasAdd == null) {
          continue;
        }
        for (int c = 0; c < 2; c++) {
          if (vectorLength(g, biasAdd.input(c)) == hidden
              && !g.isInitializer(biasAdd.input(1 - c))) {
            bias = biasAdd.input(c);
            input = biasAdd.input(1 - c);
            skip = add.input(1 - side);
            gone.add(biasAdd);
            break;
          }
        }
      }
      if (bias.isEmpty()) {
        // Not a projection plus its residual (the embeddings' sum, say): shapes may broadcast.
        continue;
      }
      List<String> inputs = List.of(input, skip, ln.input(1), ln.input(2), bias);
      Node skipLn =
          Node.of(
              "SkipLayerNormalization",
              g.uniqueName(ln.name() + "/SkipLayerNorm"),
              inputs,
              List.of(ln.output(0)));
      skipLn.setDomain(OnnxModel.MICROSOFT_DOMAIN);
      skipLn.setAttribute(
          AttributeProto.newBuilder()
              .setName("epsilon")
              .setType(AttributeProto.AttributeType.FLOAT)
              .setF(ln.floatAttribute("epsilon", 1e-5f))
              .build());
      gone.forEach(g::removeNode);
      g.addNode(skipLn);
      fused++;
    }
    if (fused > 0) {
      g.sortTopologically();
    }
    return fused;
  }

  /**
   * The producer of {@code tensor} when it is an {@code op} of the default domain read only once.
   */
  private static @Nullable Node soleProducer(Graph g, String tensor, String op) {
    Optional<Node> p = g.producer(tensor);
    if (p.isEmpty()
        || !p.get().opType().equals(op)
        || !p.get().domain().isEmpty()
        || g.consumers(tensor).size() != 1
        || g.isGraphOutput(tensor)) {
      return null;
    }
    return p.get();
  }

  /** The length of a constant float vector, or -1. */
  private static long vectorLength(Graph g, String tensor) {
    Optional<TensorProto> t = g.initializer(tensor);
    if (t.isEmpty()
        || t.get().getDataType() != DataType.FLOAT.code()
        || t.get().getDimsCount() != 1) {
      return -1;
    }
    return t.get().getDims(0);
  }
}

package io.quantguard.quantize;

import io.quantguard.onnx.Graph;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.TensorType;
import io.quantguard.onnx.proto.Onnx.AttributeProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Raises the default-domain operator set of a model, rewriting the operators whose interface
 * changed on the way. Quantization needs it: per-channel QuantizeLinear/DequantizeLinear ({@code
 * axis}) arrive in opset 13, int4 and int16 in opset 21, and many exported models (all-MiniLM-L6-v2
 * among them) are opset 11. Changes handled (ONNX Changelog): Unsqueeze/Squeeze/ReduceSum take
 * {@code axes} as an input from 13, Split takes {@code split} as an input from 13, the other
 * Reduce* operators take {@code axes} as an input from 18, Softmax/LogSoftmax/Hardmax act on one
 * axis from 13 (equal to the old meaning only when the axis is the last one, which is checked),
 * Dropout takes {@code ratio} as an input from 12. Anything else whose meaning changed is refused
 * with the operator named.
 */
final class OpsetUpgrade {
  private static final Set<String> REDUCE_18 =
      Set.of(
          "ReduceMean",
          "ReduceMax",
          "ReduceMin",
          "ReduceProd",
          "ReduceL1",
          "ReduceL2",
          "ReduceLogSum",
          "ReduceLogSumExp",
          "ReduceSumSquare");
  private static final Set<String> REFUSED =
      Set.of("Upsample", "GridSample", "Scatter", "Crop", "ImageScaler");

  private OpsetUpgrade() {}

  /**
   * Upgrades in place when the model's default opset is below {@code target}; returns the old one.
   */
  static long upgrade(OnnxModel model, long target) {
    long from = model.opset(OnnxModel.DEFAULT_DOMAIN);
    if (from >= target) {
      return from;
    }
    Graph g = model.graph();
    if (from < 10) {
      for (Node n : new ArrayList<>(g.nodes())) {
        if (n.domain().isEmpty() || n.domain().equals("ai.onnx")) {
          LegacyOperators.upgrade(model, n, from);
        }
      }
    }
    for (Node n : new ArrayList<>(g.nodes())) {
      if (!n.domain().isEmpty() && !n.domain().equals("ai.onnx")) {
        continue;
      }
      if (!n.subgraphs().isEmpty() && from < target) {
        checkSubgraphFree(model, n);
      }
      String op = n.opType();
      if (REFUSED.contains(op)) {
        throw refuse(model, n, from, target);
      }
      boolean to13 = from < 13 && target >= 13;
      if (to13 && (op.equals("Unsqueeze") || op.equals("Squeeze") || op.equals("ReduceSum"))) {
        attributeToInput(g, n, "axes", 1);
      } else if (from < 11 && target >= 11 && op.equals("Pad")) {
        attributeToInput(g, n, "pads", 1);
        Optional<AttributeProto> value = n.attribute("value");
        n.removeAttribute("value");
        if (value.isPresent() && value.get().getF() != 0f) {
          String name = g.uniqueName(n.name() + "_value");
          g.putInitializer(
              TensorCodec.fromFloats(name, new long[0], new float[] {value.get().getF()}));
          n.setInput(2, name);
        }
      } else if (from < 11 && target >= 11 && op.equals("Clip")) {
        clipBoundsToInputs(g, n);
      } else if (to13 && op.equals("Split")) {
        attributeToInput(g, n, "split", 1);
      } else if (from < 18 && target >= 18 && REDUCE_18.contains(op)) {
        attributeToInput(g, n, "axes", 1);
      } else if (to13
          && (op.equals("Softmax") || op.equals("LogSoftmax") || op.equals("Hardmax"))) {
        checkLastAxis(model, g, n);
      } else if (from < 12 && target >= 12 && op.equals("Dropout")) {
        Optional<AttributeProto> ratio = n.attribute("ratio");
        n.removeAttribute("ratio");
        if (ratio.isPresent()) {
          String name = g.uniqueName(n.name() + "_ratio");
          g.putInitializer(TensorCodec.scalar(name, ratio.get().getF()));
          n.setInput(1, name);
        }
      }
    }
    model.setOpset(OnnxModel.DEFAULT_DOMAIN, target);
    model.setIrVersion(
        Math.max(model.irVersion(), target >= 21 ? 10 : target >= 19 ? 9 : target >= 15 ? 8 : 7));
    return from;
  }

  /** Clip-11 takes {@code min} and {@code max} as optional scalar inputs instead of attributes. */
  private static void clipBoundsToInputs(Graph g, Node n) {
    String[] names = {"min", "max"};
    for (int i = 0; i < 2; i++) {
      Optional<AttributeProto> a = n.attribute(names[i]);
      n.removeAttribute(names[i]);
      if (a.isPresent()) {
        String name = g.uniqueName((n.name().isEmpty() ? "Clip" : n.name()) + "_" + names[i]);
        g.putInitializer(TensorCodec.fromFloats(name, new long[0], new float[] {a.get().getF()}));
        n.setInput(i + 1, name);
      }
    }
  }

  static void attributeToInput(Graph g, Node n, String attr, int index) {
    Optional<AttributeProto> a = n.attribute(attr);
    if (a.isEmpty()) {
      return;
    }
    List<Long> values = a.get().getIntsList();
    String name = g.uniqueName((n.name().isEmpty() ? n.opType() : n.name()) + "_" + attr);
    g.putInitializer(
        TensorCodec.fromLongs(
            name,
            new long[] {values.size()},
            values.stream().mapToLong(Long::longValue).toArray()));
    n.removeAttribute(attr);
    n.setInput(index, name);
  }

  private static void checkLastAxis(OnnxModel model, Graph g, Node n) {
    long axis = n.intAttribute("axis", 1);
    Optional<TensorType> t = g.typeOf(n.input(0));
    boolean ok =
        axis == -1
            || (t.isPresent()
                && t.get().rankKnown()
                && (axis == t.get().rank() - 1 || (axis == 1 && t.get().rank() == 2)));
    if (!ok) {
      throw new InvalidInputException(
          model.source(),
          n.opType()
              + " node '"
              + n.name()
              + "' (axis "
              + axis
              + ") changes meaning between opset 11 and 13, and its input rank is "
              + t.map(x -> x.rankKnown() ? Integer.toString(x.rank()) : "unknown")
                  .orElse("unknown"),
          "re-export the model at opset 13 or newer, or quantize per-tensor in 8 bits, which keeps the opset");
    }
    if (axis != -1 && t.isPresent()) {
      n.setAttribute(Node.intAttr("axis", t.get().rank() - 1));
    }
  }

  private static void checkSubgraphFree(OnnxModel model, Node n) {
    throw new InvalidInputException(
        model.source(),
        "node '"
            + n.name()
            + "' ("
            + n.opType()
            + ") holds subgraphs, which QuantGuard does not upgrade between opsets",
        "re-export the model at opset 13 or newer");
  }

  private static InvalidInputException refuse(OnnxModel model, Node n, long from, long to) {
    return new InvalidInputException(
        model.source(),
        "operator "
            + n.opType()
            + " (node '"
            + n.name()
            + "') changed meaning between opset "
            + from
            + " and "
            + to,
        "re-export the model at opset " + to + " or newer");
  }
}

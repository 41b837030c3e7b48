package io.quantguard.quantize;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.Graph;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.TensorType;
import io.quantguard.onnx.proto.Onnx.AttributeProto;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * ONNX's version-conversion rules for operators of opsets 1 to 9, up to opset 10: the changes ONNX
 * Runtime no longer accepts in old exports (it implements AveragePool, BatchNormalization, PRelu
 * and the arithmetic operators only from opset 7) and those quantization passes rely on. {@code
 * consumed_inputs} and {@code is_test} are dropped (no meaning since opset 6 and 7), the arithmetic
 * operators' {@code broadcast}/{@code axis} become numpy broadcasting (the constant operand is
 * reshaped when it was aligned at {@code axis}), a per-channel PRelu slope is shaped to broadcast
 * over the channel axis, Concat gets its former default axis, and the {@code shape} of Reshape, the
 * bounds of Slice and the {@code k} of TopK become inputs. An operator whose old meaning cannot be
 * expressed at opset 10 is refused with the reason.
 */
final class LegacyOperators {
  private static final Set<String> BROADCASTING =
      Set.of("Add", "Sub", "Mul", "Div", "Pow", "And", "Or", "Xor", "Equal", "Greater", "Less");

  /** An early operator version opset 10 cannot express: up to which opset, and why. */
  private record Unconvertible(long before, String why) {}

  private static final Map<String, Unconvertible> UNCONVERTIBLE =
      Map.of(
          "Upsample",
          new Unconvertible(10, "its scales and modes changed, and it was replaced by Resize"),
          "Tile",
          new Unconvertible(6, "it took tiles and axis as inputs with another meaning"),
          "LpPool",
          new Unconvertible(2, "its p was a float attribute"),
          "GRU",
          new Unconvertible(7, "its output_sequence attribute was removed"),
          "LSTM",
          new Unconvertible(7, "its output_sequence attribute was removed"),
          "RNN",
          new Unconvertible(7, "its output_sequence attribute was removed"));

  private LegacyOperators() {}

  /** Rewrites {@code n} (of a model at opset {@code from} &lt; 10) to its opset-10 form. */
  static void upgrade(OnnxModel model, Node n, long from) {
    Graph g = model.graph();
    String op = n.opType();
    n.removeAttribute("consumed_inputs");
    Unconvertible u = UNCONVERTIBLE.get(op);
    if (u != null && from < u.before()) {
      throw refuse(model, n, from, u.why());
    }
    if (BROADCASTING.contains(op) && from < 7) {
      broadcast(model, n, from);
    } else if (op.equals("Gemm") && from < 7) {
      n.removeAttribute("broadcast");
    } else if (op.equals("PRelu") && from < 7) {
      channelSlope(model, n, from);
    } else if (op.equals("BatchNormalization")) {
      n.removeAttribute("is_test");
      if (n.intAttribute("spatial", 1) != 1) {
        throw refuse(
            model, n, from, "spatial=0 (per-activation statistics) was removed in opset 9");
      }
      n.removeAttribute("spatial");
      if (n.outputs().stream().skip(1).anyMatch(o -> !o.isEmpty())) {
        throw refuse(
            model, n, from, "its training outputs (running mean and variance) changed in opset 7");
      }
    } else if (op.equals("Dropout")) {
      n.removeAttribute("is_test");
    } else if (op.equals("Concat") && from < 4 && n.attribute("axis").isEmpty()) {
      n.setAttribute(Node.intAttr("axis", 1));
    } else if (op.equals("Reshape") && from < 5) {
      OpsetUpgrade.attributeToInput(g, n, "shape", 1);
    } else if (op.equals("Slice")) {
      long[] starts = longs(n, "starts");
      OpsetUpgrade.attributeToInput(g, n, "starts", 1);
      OpsetUpgrade.attributeToInput(g, n, "ends", 2);
      if (n.attribute("axes").isEmpty()) {
        n.setAttribute(ints("axes", range(starts.length)));
      }
      OpsetUpgrade.attributeToInput(g, n, "axes", 3);
    } else if (op.equals("TopK")) {
      long k = n.intAttribute("k", -1);
      n.removeAttribute("k");
      String name = g.uniqueName(label(n) + "_k");
      g.putInitializer(TensorCodec.fromLongs(name, new long[] {1}, new long[] {k}));
      n.setInput(1, name);
    } else if (op.equals("Cast") && from < 6) {
      Optional<AttributeProto> to = n.attribute("to");
      if (to.isPresent() && to.get().getType() == AttributeProto.AttributeType.STRING) {
        DataType t = DataType.parse(to.get().getS().toStringUtf8());
        n.setAttribute(Node.intAttr("to", t.code()));
      }
    }
  }

  /**
   * Before opset 7, B broadcast onto A only with {@code broadcast=1}, aligned at {@code axis}
   * (default: the trailing axes). Numpy broadcasting aligns trailing axes, so a constant B aligned
   * elsewhere gets trailing ones.
   */
  private static void broadcast(OnnxModel model, Node n, long from) {
    boolean on = n.intAttribute("broadcast", 0) == 1;
    Optional<AttributeProto> axis = n.attribute("axis");
    n.removeAttribute("broadcast");
    n.removeAttribute("axis");
    if (!on || axis.isEmpty()) {
      return;
    }
    Graph g = model.graph();
    Optional<TensorType> a = g.typeOf(n.input(0));
    Optional<TensorProto> constant = g.initializer(n.input(1));
    Optional<TensorType> b = g.typeOf(n.input(1));
    int rankB =
        constant.isPresent()
            ? constant.get().getDimsCount()
            : b.filter(TensorType::rankKnown).map(TensorType::rank).orElse(-1);
    if (a.isEmpty() || !a.get().rankKnown() || rankB < 0) {
      throw refuse(
          model,
          n,
          from,
          "it broadcasts at axis "
              + axis.get().getI()
              + " and the ranks of its inputs are not declared");
    }
    long start = axis.get().getI() < 0 ? axis.get().getI() + a.get().rank() : axis.get().getI();
    int trailing = (int) (a.get().rank() - start - rankB);
    if (trailing <= 0) {
      return;
    }
    if (constant.isPresent()) {
      reshapeConstant(g, n, 1, constant.get(), TensorCodec.dims(constant.get()), trailing);
    } else {
      long[] axes = new long[trailing];
      for (int i = 0; i < trailing; i++) {
        axes[i] = rankB + i;
      }
      String out = g.uniqueName(n.input(1) + "_broadcast");
      g.addNode(
          Node.of(
              "Unsqueeze",
              g.uniqueName(label(n) + "_broadcast"),
              java.util.List.of(n.input(1)),
              java.util.List.of(out),
              ints("axes", axes)));
      n.setInput(1, out);
    }
  }

  /**
   * PRelu before opset 7 applied a slope of one value per channel to {@code [N, C, ...]} data;
   * PRelu-7 broadcasts numpy-style, so the slope becomes {@code [C, 1, ..., 1]}.
   */
  private static void channelSlope(OnnxModel model, Node n, long from) {
    Graph g = model.graph();
    Optional<TensorProto> slope = g.initializer(n.input(1));
    Optional<TensorType> x = g.typeOf(n.input(0));
    if (slope.isEmpty()) {
      throw refuse(model, n, from, "its slope is not a constant, so its shape cannot be adapted");
    }
    long[] dims = TensorCodec.dims(slope.get());
    if (dims.length != 1 || dims[0] == 1) {
      return;
    }
    if (x.isEmpty() || !x.get().rankKnown()) {
      throw refuse(model, n, from, "the rank of its input is unknown");
    }
    int trailing = x.get().rank() - 2;
    if (trailing > 0) {
      reshapeConstant(g, n, 1, slope.get(), dims, trailing);
    }
  }

  private static void reshapeConstant(
      Graph g, Node n, int input, TensorProto t, long[] dims, int trailing) {
    long[] shaped = Arrays.copyOf(dims, dims.length + trailing);
    Arrays.fill(shaped, dims.length, shaped.length, 1L);
    String name = g.uniqueName(t.getName() + "_broadcast");
    g.putInitializer(t.toBuilder().setName(name).clearDims().addAllDims(box(shaped)).build());
    n.setInput(input, name);
  }

  private static Iterable<Long> box(long[] v) {
    return Arrays.stream(v).boxed().toList();
  }

  private static long[] longs(Node n, String attr) {
    return n.intsAttribute(attr).stream().mapToLong(Long::longValue).toArray();
  }

  private static long[] range(int n) {
    long[] r = new long[n];
    for (int i = 0; i < n; i++) {
      r[i] = i;
    }
    return r;
  }

  private static AttributeProto ints(String name, long[] values) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.INTS)
        .addAllInts(box(values))
        .build();
  }

  private static String label(Node n) {
    return n.name().isEmpty() ? n.opType() : n.name();
  }

  private static InvalidInputException refuse(OnnxModel model, Node n, long from, String why) {
    return new InvalidInputException(
        model.source(),
        "opset "
            + from
            + " of "
            + n.opType()
            + " (node '"
            + n.name()
            + "') is not supported by ONNX Runtime and cannot be upgraded because "
            + why,
        "re-export the model at opset 10 or newer");
  }
}

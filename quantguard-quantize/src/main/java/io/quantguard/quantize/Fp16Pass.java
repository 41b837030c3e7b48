package io.quantguard.quantize;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.Graph;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.TensorType;
import io.quantguard.onnx.proto.Onnx.AttributeProto;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import io.quantguard.onnx.proto.Onnx.ValueInfoProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * float16 conversion: weights and computation in half precision, graph inputs and outputs still
 * float32 (Casts at the edges), and the operators where half precision is numerically unsafe kept
 * in float32 with Casts around them: reductions and powers (a variance of 300² overflows float16),
 * softmax, normalizations, exponentials. Constants beyond the float16 range are clamped to ±65504
 * (an attention mask of −3.4e38 would otherwise become −∞ and turn 0 · mask into NaN).
 */
final class Fp16Pass {
  static final Set<String> KEEP_FLOAT32 =
      Set.of(
          "ReduceMean",
          "ReduceSum",
          "ReduceSumSquare",
          "ReduceL1",
          "ReduceL2",
          "ReduceLogSum",
          "ReduceLogSumExp",
          "ReduceProd",
          "Pow",
          "Sqrt",
          "Exp",
          "Log",
          "Softmax",
          "LogSoftmax",
          "LayerNormalization",
          "BatchNormalization",
          "InstanceNormalization",
          "GroupNormalization",
          "Range",
          "CumSum",
          "TopK",
          "NonMaxSuppression",
          "Resize",
          "RoiAlign",
          "Einsum");

  /**
   * Operators whose schema takes no float16 (quantization operators fix their scale to float32,
   * Celu and IsInf take float only before opset 20) or whose ONNX Runtime CPU kernels have no
   * float16 form (scatters with a reduction), and random generators whose {@code dtype} attribute
   * fixes their output type; converting them gives a model that does not load or run. Found by the
   * conformance test on ONNX's backend test models.
   */
  private static final Set<String> NO_FLOAT16 =
      Set.of(
          "QuantizeLinear",
          "DequantizeLinear",
          "DynamicQuantizeLinear",
          "QLinearConv",
          "QLinearMatMul",
          "MatMulInteger",
          "ConvInteger",
          "Celu",
          "IsInf",
          "MeanVarianceNormalization",
          "Bernoulli",
          "RandomUniformLike",
          "RandomNormalLike",
          "Multinomial",
          "ScatterND",
          "ScatterElements");

  /** Inputs that stay float32 whatever the node's precision (their schema fixes the type). */
  private static final Map<String, Set<Integer>> FIXED_FLOAT32_INPUTS =
      Map.of("Resize", Set.of(1, 2), "Upsample", Set.of(1));

  private static final float FP16_MAX = 65504f;

  private final OnnxModel model;
  private final Graph g;
  private final RecipeResolver recipe;
  private final Map<String, TensorType> types;
  private final Set<Node> half = new HashSet<>();
  private final Set<String> halfTensors = new HashSet<>();
  private final Map<String, String> casts = new HashMap<>();
  private final List<QuantizationReport.Skipped> kept = new ArrayList<>();
  private int converted;

  Fp16Pass(OnnxModel model, RecipeResolver recipe, Map<String, TensorType> types) {
    this.model = model;
    this.g = model.graph();
    this.recipe = recipe;
    this.types = types;
  }

  boolean isFloat(String t) {
    if (t.isEmpty()) {
      return false;
    }
    if (types.containsKey(t)) {
      return types.get(t).elementType() == DataType.FLOAT;
    }
    return g.typeOf(t).map(x -> x.elementType() == DataType.FLOAT).orElse(false);
  }

  /**
   * Sequence and optional operators, and operators with subgraphs, tie a tensor's element type to
   * values this pass does not retype (a float sequence takes only float tensors).
   */
  private static boolean holdsTypedValues(Node n) {
    String op = n.opType();
    return op.contains("Sequence") || op.startsWith("Optional") || !n.subgraphs().isEmpty();
  }

  void run() {
    List<Node> order = g.topologicalOrder();
    for (Node n : order) {
      RecipeResolver.NodeSettings s = recipe.forNode(n);
      if (s.mode() != Recipe.Mode.FP16) {
        continue;
      }
      boolean touchesFloat =
          n.inputs().stream().anyMatch(this::isFloat)
              || n.outputs().stream().anyMatch(this::isFloat);
      if (!touchesFloat) {
        continue;
      }
      if (!s.quantize()) {
        kept.add(new QuantizationReport.Skipped(n.name(), n.opType(), s.why()));
      } else if (KEEP_FLOAT32.contains(n.opType()) || !n.domain().isEmpty()) {
        kept.add(
            new QuantizationReport.Skipped(
                n.name(), n.opType(), "kept in float32 for numeric safety"));
      } else if (NO_FLOAT16.contains(n.opType())) {
        kept.add(
            new QuantizationReport.Skipped(
                n.name(), n.opType(), "ONNX or ONNX Runtime has no float16 form of this operator"));
      } else if (holdsTypedValues(n)) {
        kept.add(
            new QuantizationReport.Skipped(
                n.name(),
                n.opType(),
                "sequences, optionals and subgraphs keep the element type they were built with"));
      } else {
        half.add(n);
      }
    }
    for (Node n : order) {
      if (half.contains(n)) {
        for (String o : n.outputs()) {
          if (isFloat(o)) {
            halfTensors.add(o);
          }
        }
      }
    }
    for (Node n : order) {
      boolean isHalf = half.contains(n);
      for (int i = 0; i < n.inputs().size(); i++) {
        String in = n.input(i);
        if (!isFloat(in)) {
          continue;
        }
        boolean want =
            isHalf && !FIXED_FLOAT32_INPUTS.getOrDefault(n.opType(), Set.of()).contains(i);
        boolean have = halfTensors.contains(in);
        if (want && g.isInitializer(in)) {
          n.setInput(i, halfInitializer(in));
        } else if (want != have) {
          n.setInput(i, cast(in, want));
        }
      }
      if (isHalf) {
        retype(n);
        converted++;
      }
    }
    for (ValueInfoProto out : new ArrayList<>(g.outputs())) {
      String t = out.getName();
      if (halfTensors.contains(t)) {
        String renamed = g.uniqueName(t + "_fp16");
        Node producer = g.producer(t).orElseThrow();
        for (Node c : new ArrayList<>(g.consumers(t))) {
          c.replaceInput(t, renamed);
        }
        producer.setOutput(producer.outputs().indexOf(t), renamed);
        g.addNode(
            Node.of(
                "Cast",
                g.uniqueName(t + "_to_float32"),
                List.of(renamed),
                List.of(t),
                Node.intAttr("to", DataType.FLOAT.code())));
        halfTensors.add(renamed);
        halfTensors.remove(t);
      }
    }
    for (String t : halfTensors) {
      g.removeValueInfo(t);
    }
    g.removeUnusedInitializers();
  }

  int converted() {
    return converted;
  }

  /** The nodes converted to float16, in graph order (valid after {@link #run()}). */
  List<QuantizationPlan.Step> steps() {
    return g.topologicalOrder().stream()
        .filter(half::contains)
        .map(n -> new QuantizationPlan.Step(n.name(), n.opType(), Recipe.Mode.FP16, "float16"))
        .toList();
  }

  List<QuantizationReport.Skipped> kept() {
    return kept;
  }

  /** Casts whose meaning is "to float" become "to float16" inside the half-precision region. */
  private void retype(Node n) {
    if (n.opType().equals("Cast") && n.intAttribute("to", 0) == DataType.FLOAT.code()) {
      n.setAttribute(Node.intAttr("to", DataType.FLOAT16.code()));
    } else if (n.opType().equals("ConstantOfShape") && n.attribute("value").isPresent()) {
      AttributeProto v = n.attribute("value").get();
      if (v.getT().getDataType() == DataType.FLOAT.code()) {
        TensorProto t = v.getT();
        float[] f = clamp(TensorCodec.toFloats(t, model.externalData()));
        n.setAttribute(
            Node.tensorAttr(
                "value", TensorCodec.fromFloatsAsFloat16(t.getName(), TensorCodec.dims(t), f)));
      }
    }
  }

  private String halfInitializer(String name) {
    return casts.computeIfAbsent(
        name + "|init",
        k -> {
          String h = g.uniqueName(name + "_fp16");
          TensorProto t = model.requireInitializer(name);
          g.putInitializer(
              TensorCodec.fromFloatsAsFloat16(h, TensorCodec.dims(t), clamp(model.floats(name))));
          halfTensors.add(h);
          return h;
        });
  }

  private String cast(String tensor, boolean toHalf) {
    return casts.computeIfAbsent(
        tensor + (toHalf ? "|16" : "|32"),
        k -> {
          String out = g.uniqueName(tensor + (toHalf ? "_fp16" : "_fp32"));
          g.addNode(
              Node.of(
                  "Cast",
                  g.uniqueName(tensor + (toHalf ? "_to_float16" : "_to_float32")),
                  List.of(tensor),
                  List.of(out),
                  Node.intAttr("to", (toHalf ? DataType.FLOAT16 : DataType.FLOAT).code())));
          if (toHalf) {
            halfTensors.add(out);
          }
          return out;
        });
  }

  private static float[] clamp(float[] f) {
    for (int i = 0; i < f.length; i++) {
      if (f[i] > FP16_MAX) {
        f[i] = FP16_MAX;
      } else if (f[i] < -FP16_MAX) {
        f[i] = -FP16_MAX;
      }
    }
    return f;
  }
}

package io.quantguard.quantize;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.Graph;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.proto.Onnx.AttributeProto;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Dynamic int8 quantization: weights are quantized offline, activations at run time. Each MatMul or
 * Gemm with a constant weight becomes ONNX Runtime's fused {@code
 * com.microsoft.DynamicQuantizeMatMul} (what its optimizer makes of DynamicQuantizeLinear +
 * MatMulInteger + Cast + Mul, and the kernel that runs u8×s8 on VNNI), with per-column weight
 * scales and the following bias Add folded in. Embedding tables are stored as int8 rows. Activation
 * × activation MatMuls (attention scores) and convolutions stay float: ConvInteger has no fast CPU
 * kernel, and the scores are where dynamic range hurts most. With {@code activations: {per_token:
 * true}} each activation row (token) gets its own symmetric scale instead of one per tensor:
 * MatMulIntegerToFloat on the u8 rows with the column scales, then the row's scale.
 */
final class DynamicPass {
  private final OnnxModel model;
  private final Graph g;
  private final RecipeResolver recipe;
  private final WeightTables tables;
  private final Map<String, Integer> byOp = new TreeMap<>();
  private final Map<String, String[]> dynamicInputs = new java.util.HashMap<>();
  private final Map<String, String[]> perTokenInputs = new java.util.HashMap<>();
  private final List<QuantizationReport.Skipped> skipped = new ArrayList<>();
  private boolean fullRangeInt8Weights;
  private final List<QuantizationPlan.Step> steps = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private final @Nullable Map<String, ChannelStatistics> channels;
  private int weights;

  /** A pass that plans only: it does not smooth, so it needs no calibration statistics. */
  DynamicPass(OnnxModel model, RecipeResolver recipe, WeightTables tables) {
    this(model, recipe, tables, null);
  }

  /**
   * @param channels the calibration's per-channel statistics, from which the nodes the recipe
   *     smooths get their factors; null for a pass that only plans and smooths nothing
   */
  DynamicPass(
      OnnxModel model,
      RecipeResolver recipe,
      WeightTables tables,
      @Nullable Map<String, ChannelStatistics> channels) {
    this.model = model;
    this.g = model.graph();
    this.recipe = recipe;
    this.tables = tables;
    this.channels = channels;
  }

  /**
   * The activations whose per-channel statistics smoothing needs (those read by the dynamic nodes
   * the recipe smooths), with their channel counts.
   *
   * @param all also those of the dynamic nodes the recipe does not smooth, for a calibration that
   *     later recipes reuse with smoothing (the tuner's trials)
   */
  Map<String, Integer> channelInputs(boolean all) {
    Map<String, Integer> out = new java.util.LinkedHashMap<>();
    smoothable(all).forEach((x, nodes) -> out.put(x, inputChannels(nodes.get(0))));
    return out;
  }

  List<String> notes() {
    return notes;
  }

  /**
   * The dynamic nodes the recipe smooths (or, with {@code all}, could smooth), grouped by the
   * activation they read: MatMul and Gemm with a constant weight, and fused Attention (its packed
   * query/key/value weight has the input channels as rows).
   */
  private Map<String, List<Node>> smoothable(boolean all) {
    Map<String, List<Node>> out = new java.util.LinkedHashMap<>();
    for (Node n : g.topologicalOrder()) {
      RecipeResolver.NodeSettings s = recipe.forNode(n);
      if (!s.quantize() || s.mode() != Recipe.Mode.DYNAMIC || (s.smooth() == null && !all)) {
        continue;
      }
      if (smoothIneligible(g, n) == null) {
        out.computeIfAbsent(n.input(0), x -> new ArrayList<>()).add(n);
      }
    }
    return out;
  }

  private int inputChannels(Node n) {
    return n.opType().equals("Attention")
        ? (int) TensorCodec.dims(g.initializer(n.input(1)).orElseThrow())[0]
        : SmoothQuant.inputChannels(g, n);
  }

  /**
   * SmoothQuant for run-time quantized activations: per-token scales follow each row's largest
   * value, so a few outlier channels (a LayerNorm's large gains) still coarsen every other channel
   * of the row. One factor vector per activation, shared by all the nodes that read it (the query,
   * key and value projections read one LayerNorm output): s_j = max|X_j|^α / max|W_j|^(1−α) with
   * W_j the largest row j over those nodes' weights. One Mul (X × 1/s) serves them all, and each
   * weight becomes diag(s)·W before it is quantized.
   */
  private void smooth(Map<String, ChannelStatistics> channels) {
    Map<String, List<Node>> consumers = smoothable(false);
    if (!consumers.isEmpty() && channels.isEmpty()) {
      throw InvalidInputException.forParameter(
          "calibration",
          null,
          "is required: the recipe smooths "
              + consumers.size()
              + " run-time quantized activation(s), whose factors come from their per-channel"
              + " ranges",
          "give representative data, or leave smooth out of the recipe");
    }
    int smoothedNodes = 0;
    for (Map.Entry<String, List<Node>> e : consumers.entrySet()) {
      String x = e.getKey();
      List<Node> nodes = e.getValue();
      int k = inputChannels(nodes.get(0));
      ChannelStatistics cs = channels.get(x);
      if (cs == null || cs.channels() != k || cs.axis() != ChannelStatistics.Axis.LAST) {
        throw SmoothQuant.missingChannels(nodes.get(0), x, "smooths");
      }
      float[] xMax = cs.absMaxes();
      float[] wMax = new float[k];
      List<float[]> values = new ArrayList<>(); // each weight decoded once, for both uses
      for (Node n : nodes) {
        float[] w = model.floats(n.input(1));
        values.add(w);
        long[] dims = TensorCodec.dims(model.requireInitializer(n.input(1)));
        float[] rows = SmoothQuant.weightRowAbsMax(w, dims, SmoothQuant.transposed(n));
        for (int j = 0; j < k; j++) {
          wMax[j] = Math.max(wMax[j], rows[j]);
        }
      }
      // Readers of one activation share its factors, so they share the first reader's α.
      double alpha = java.util.Objects.requireNonNull(recipe.forNode(nodes.get(0)).smooth());
      float[] f = SmoothQuant.factors(xMax, wMax, alpha);
      String inv = g.uniqueName(x + "_smooth_inverse");
      g.putInitializer(TensorCodec.fromFloats(inv, new long[] {k}, SmoothQuant.inverse(f)));
      String xs = g.uniqueName(x + "_smoothed");
      g.addNode(Node.of("Mul", g.uniqueName(x + "_Smooth"), List.of(x, inv), List.of(xs)));
      g.typeOf(x).ifPresent(type -> g.putValueInfo(type.toValueInfo(xs)));
      for (int i = 0; i < nodes.size(); i++) {
        Node n = nodes.get(i);
        String w = n.input(1);
        long[] dims = TensorCodec.dims(model.requireInitializer(w));
        String scaled = g.uniqueName(w + "_smoothed");
        g.putInitializer(
            TensorCodec.fromFloats(
                scaled,
                dims,
                SmoothQuant.scaleWeight(values.get(i), dims, SmoothQuant.transposed(n), f)));
        n.setInput(0, xs);
        n.setInput(1, scaled);
        smoothedNodes++;
      }
    }
    if (!consumers.isEmpty()) {
      g.removeUnusedInitializers();
      g.sortTopologically();
      notes.add(
          "smoothed "
              + consumers.size()
              + " run-time quantized activation(s) read by "
              + smoothedNodes
              + " node(s) (SmoothQuant, one factor vector per activation shared by its readers)");
    }
  }

  void run() {
    if (channels != null) {
      smooth(channels);
    }
    for (Node n : new ArrayList<>(g.topologicalOrder())) {
      RecipeResolver.NodeSettings s = recipe.forNode(n);
      if (!s.quantize() || s.mode() != Recipe.Mode.DYNAMIC) {
        continue;
      }
      if (s.activations().scheme().narrowed()) {
        // DynamicQuantizeLinear always spreads the activation over the full uint8 grid.
        throw new InvalidInputException(
            "recipe activations.bits",
            "narrows the activation grid of "
                + n.name()
                + ", but dynamic mode quantizes activations at run time to all 8 bits",
            "leave activations.bits out for dynamic nodes, or make the node static");
      }
      switch (n.opType()) {
        case "MatMul", "Gemm" -> {
          String why = rewriteMatMul(n, s.weights(), s.activations().perToken());
          if (why != null) {
            skipped.add(new QuantizationReport.Skipped(n.name(), n.opType(), why));
          }
        }
        case "Attention" -> {
          String why = rewriteAttention(n, s.weights());
          if (why != null) {
            skipped.add(new QuantizationReport.Skipped(n.name(), n.opType(), why));
          }
        }
        case "Gather" -> {
          if (tables.quantize(n, s.weights())) {
            byOp.merge("Gather", 1, Integer::sum);
            steps.add(step(n, "int8 table"));
            weights++;
          }
        }
        default -> {
          if (n.opType().equals("Conv") || n.opType().equals("ConvTranspose")) {
            skipped.add(
                new QuantizationReport.Skipped(
                    n.name(),
                    n.opType(),
                    "dynamic quantization of convolutions has no fast kernel; use static"));
          }
        }
      }
    }
    g.removeUnusedInitializers();
  }

  Map<String, Integer> quantizedByOp() {
    return byOp;
  }

  /**
   * Whether some quantized weight uses all of int8 against the uint8 activations that dynamic
   * quantization always gives (the pairing that saturates on CPUs without VNNI).
   */
  boolean pairsUint8WithFullRangeInt8() {
    return fullRangeInt8Weights;
  }

  List<QuantizationReport.Skipped> skipped() {
    return skipped;
  }

  List<QuantizationPlan.Step> steps() {
    return steps;
  }

  private static QuantizationPlan.Step step(Node n, String form) {
    return new QuantizationPlan.Step(n.name(), n.opType(), Recipe.Mode.DYNAMIC, form);
  }

  int quantizedWeights() {
    return weights;
  }

  /** The uint8 tensor, scale and zero point of a run-time quantized activation (created once). */
  private String[] activationQuantizer(String activation) {
    return dynamicInputs.computeIfAbsent(
        activation,
        t -> {
          String q = g.uniqueName(t + "_quantized");
          String s = g.uniqueName(t + "_scale");
          String z = g.uniqueName(t + "_zero_point");
          g.addNode(
              Node.of(
                  "DynamicQuantizeLinear",
                  g.uniqueName(t + "_DynamicQuantizeLinear"),
                  List.of(t),
                  List.of(q, s, z)));
          return new String[] {q, s, z};
        });
  }

  /**
   * The uint8 tensor and the per-row scale of an activation quantized row by row (created once): s
   * = max|x| / 127 over the last axis, q = round(x / s) + 128, so each token keeps its own 8-bit
   * grid (symmetric; the fixed zero point 128 keeps ONNX Runtime's u8×s8 kernel). Returns the
   * quantized tensor, the row scales, the zero point and a scalar 1.
   *
   * <p>max|x| comes from ReduceMax and ReduceMin, which read the activation without writing |x|
   * (measured on all-MiniLM-L6-v2 at batch 8: 2.2 ms of kernels against 3.1 for Abs and ReduceMax).
   * A per-row {@code com.microsoft.QuantizeLinear} (axis 0 of the activation as a matrix) in place
   * of Div and QuantizeLinear was no faster (3.9 ms against 3.8).
   */
  private String[] perTokenQuantizer(String activation) {
    return perTokenInputs.computeIfAbsent(
        activation,
        t -> {
          String max = g.uniqueName(t + "_row_max");
          String min = g.uniqueName(t + "_row_min");
          String negMin = g.uniqueName(t + "_row_neg_min");
          String absMax = g.uniqueName(t + "_row_abs_max");
          String raw = g.uniqueName(t + "_row_scale_raw");
          String scale = g.uniqueName(t + "_row_scale");
          String scaled = g.uniqueName(t + "_row_scaled");
          String q = g.uniqueName(t + "_row_quantized");
          String inv127 = g.uniqueName(t + "_inv127");
          String tiny = g.uniqueName(t + "_tiny");
          String one = g.uniqueName(t + "_one");
          String zp = g.uniqueName(t + "_zero_point");
          g.putInitializer(TensorCodec.scalar(inv127, 1f / 127f));
          g.putInitializer(TensorCodec.scalar(tiny, Float.MIN_NORMAL));
          g.putInitializer(TensorCodec.scalar(one, 1f));
          g.putInitializer(TensorCodec.fromInts(zp, DataType.UINT8, new long[0], new int[] {128}));
          g.addNode(lastAxisReduce("ReduceMax", t, max));
          g.addNode(lastAxisReduce("ReduceMin", t, min));
          g.addNode(Node.of("Neg", g.uniqueName(t + "_Neg"), List.of(min), List.of(negMin)));
          g.addNode(
              Node.of("Max", g.uniqueName(t + "_AbsMax"), List.of(max, negMin), List.of(absMax)));
          g.addNode(
              Node.of("Mul", g.uniqueName(t + "_ScaleMul"), List.of(absMax, inv127), List.of(raw)));
          // An all-zero row (padding) keeps a tiny positive scale instead of dividing 0 by 0.
          g.addNode(
              Node.of("Max", g.uniqueName(t + "_ScaleMax"), List.of(raw, tiny), List.of(scale)));
          g.addNode(
              Node.of("Div", g.uniqueName(t + "_RowDiv"), List.of(t, scale), List.of(scaled)));
          g.addNode(
              Node.of(
                  "QuantizeLinear",
                  g.uniqueName(t + "_QuantizeLinear"),
                  List.of(scaled, one, zp),
                  List.of(q)));
          return new String[] {q, scale, zp, one};
        });
  }

  /** A reduction over the last axis that keeps it (axes as an input from opset 18 on). */
  private Node lastAxisReduce(String op, String input, String output) {
    Node reduce;
    if (model.opset(OnnxModel.DEFAULT_DOMAIN) >= 18) {
      String axes = g.uniqueName(input + "_last_axis");
      g.putInitializer(TensorCodec.fromLongs(axes, new long[] {1}, new long[] {-1}));
      reduce = Node.of(op, g.uniqueName(input + "_" + op), List.of(input, axes), List.of(output));
    } else {
      reduce = Node.of(op, g.uniqueName(input + "_" + op), List.of(input), List.of(output));
      reduce.setAttribute(
          AttributeProto.newBuilder()
              .setName("axes")
              .setType(AttributeProto.AttributeType.INTS)
              .addInts(-1)
              .build());
    }
    reduce.setAttribute(Node.intAttr("keepdims", 1));
    return reduce;
  }

  /** Returns why the node stays float, or null when it was rewritten. */
  private @Nullable String rewriteMatMul(Node n, WeightSettings ws, boolean perToken) {
    boolean gemm = n.opType().equals("Gemm");
    String b = n.input(1);
    Optional<TensorProto> bt = g.initializer(b);
    if (bt.isEmpty() || bt.get().getDataType() != DataType.FLOAT.code()) {
      return "second input is not a constant float weight (activation × activation stays float)";
    }
    long[] dims = TensorCodec.dims(bt.get());
    if (dims.length != 2) {
      return "weight of rank " + dims.length + " (only matrices)";
    }
    if (gemm
        && (n.intAttribute("transA", 0) != 0
            || n.floatAttribute("alpha", 1f) != 1f
            || n.floatAttribute("beta", 1f) != 1f)) {
      return "Gemm with transA, alpha or beta other than the defaults";
    }
    float[] w = model.floats(b);
    long k = dims[0];
    long cols = dims[1];
    if (gemm && n.intAttribute("transB", 0) == 1) {
      w = WeightOnlyPass.transpose(w, (int) dims[0], (int) dims[1]);
      k = dims[1];
      cols = dims[0];
    }
    long[] kn = {k, cols};
    Scheme scheme = ws.scheme();
    if (scheme.type().bits() != 8) {
      return "dynamic quantization takes 8-bit weights, not " + scheme.type().displayName();
    }
    int axis = ws.perChannel() ? 1 : -1;
    QuantParams p =
        scheme.params(WeightRanges.of(w, kn, axis, scheme, ws.method(), ws.percentile()), axis);
    String q = g.uniqueName(b + "_quantized");
    String sc = g.uniqueName(b + "_scale");
    String zp = g.uniqueName(b + "_zero_point");
    long[] pdims = p.perChannel() ? new long[] {cols} : new long[0];
    fullRangeInt8Weights |= scheme.fullRangeInt8();
    g.putInitializer(TensorCodec.fromInts(q, p.scheme().type(), kn, p.quantize(w, kn)));
    g.putInitializer(TensorCodec.fromFloats(sc, pdims, p.scale()));
    g.putInitializer(TensorCodec.fromInts(zp, p.scheme().type(), pdims, p.zeroPoint()));

    String bias = "";
    String output = n.output(0);
    Node absorbed = null;
    if (gemm && !n.input(2).isEmpty()) {
      Optional<TensorProto> c = g.initializer(n.input(2));
      if (c.isEmpty() || c.get().getDimsCount() != 1 || c.get().getDims(0) != cols) {
        return "Gemm bias is not a constant vector of " + cols;
      }
      bias = n.input(2);
    } else if (!gemm) {
      absorbed = BiasFolding.foldableAdd(g, output, cols);
      if (absorbed != null) {
        bias = absorbed.input(0).equals(output) ? absorbed.input(1) : absorbed.input(0);
        output = absorbed.output(0);
      }
    }
    if (perToken) {
      rowScaledMatMul(n, q, sc, zp, bias, output);
      g.removeNode(n);
      if (absorbed != null) {
        g.removeNode(absorbed);
      }
      byOp.merge(n.opType(), 1, Integer::sum);
      steps.add(step(n, "MatMulIntegerToFloat, per-token scales"));
      weights++;
      return null;
    }
    // One DynamicQuantizeLinear per activation, shared by every MatMul that reads it (the query,
    // key and value projections read the same tensor), then MatMulIntegerToFloat, which also
    // applies both scales and the bias.
    String[] a = activationQuantizer(n.input(0));
    List<String> inputs = new ArrayList<>(List.of(a[0], q, a[1], sc, a[2], zp));
    if (!bias.isEmpty()) {
      inputs.add(bias);
    }
    Node fused =
        Node.of(
            "MatMulIntegerToFloat",
            n.name().isEmpty() ? g.uniqueName("MatMulIntegerToFloat") : n.name(),
            inputs,
            List.of(output));
    fused.setDomain(OnnxModel.MICROSOFT_DOMAIN);
    g.removeNode(n);
    if (absorbed != null) {
      g.removeNode(absorbed);
    }
    g.addNode(fused);
    byOp.merge(n.opType(), 1, Integer::sum);
    steps.add(step(n, "MatMulIntegerToFloat"));
    weights++;
    return null;
  }

  /**
   * Why a dynamic node's input cannot be smoothed, or null when it can: a MatMul or Gemm as {@link
   * SmoothQuant#ineligible} says, or a fused Attention that becomes QAttention (its packed
   * query/key/value weight has the input channels as rows).
   */
  static @Nullable String smoothIneligible(Graph g, Node n) {
    if (!n.opType().equals("Attention")) {
      return SmoothQuant.ineligible(g, n);
    }
    String why = attentionIneligible(g, n);
    if (why == null && g.isInitializer(n.input(0))) {
      return "has a constant first input (no activation to smooth)";
    }
    return why;
  }

  /** Why an Attention node cannot become QAttention, or null when it can. */
  private static @Nullable String attentionIneligible(Graph g, Node n) {
    if (!n.domain().equals(OnnxModel.MICROSOFT_DOMAIN)) {
      return "not ONNX Runtime's fused Attention";
    }
    if (n.inputs().size() > 4
        || n.attribute("scale").isPresent()
        || n.attribute("qkv_hidden_sizes").isPresent()
        || n.intAttribute("unidirectional", 0) != 0) {
      return "Attention with past state, a custom scale, unequal head sizes or a causal mask (QAttention takes none)";
    }
    Optional<TensorProto> wt = g.initializer(n.input(1));
    Optional<TensorProto> bt = g.initializer(n.input(2));
    if (wt.isEmpty()
        || bt.isEmpty()
        || wt.get().getDataType() != DataType.FLOAT.code()
        || wt.get().getDimsCount() != 2) {
      return "weights or bias are not constant floats (a 2-D packed weight)";
    }
    return null;
  }

  /**
   * A fused {@code com.microsoft.Attention} (see {@link AttentionFusion}) as {@code QAttention}:
   * the packed query/key/value weight int8 per column, the input quantized by the shared {@code
   * DynamicQuantizeLinear} (QAttention takes one input scale, so this input is per tensor even when
   * the recipe asks for per-token scales); the scores and the product with the values stay float
   * inside the kernel. Returns why the node stays float, or null when it was rewritten.
   */
  private @Nullable String rewriteAttention(Node n, WeightSettings ws) {
    String why = attentionIneligible(g, n);
    if (why != null) {
      return why;
    }
    Optional<TensorProto> wt = g.initializer(n.input(1));
    Scheme scheme = ws.scheme();
    if (scheme.type().bits() != 8) {
      return "dynamic quantization takes 8-bit weights, not " + scheme.type().displayName();
    }
    long[] kn = TensorCodec.dims(wt.get());
    float[] w = model.floats(n.input(1));
    int axis = ws.perChannel() ? 1 : -1;
    QuantParams p =
        scheme.params(WeightRanges.of(w, kn, axis, scheme, ws.method(), ws.percentile()), axis);
    String b = n.input(1);
    String q = g.uniqueName(b + "_quantized");
    String sc = g.uniqueName(b + "_scale");
    String zp = g.uniqueName(b + "_zero_point");
    long[] pdims = p.perChannel() ? new long[] {kn[1]} : new long[0];
    fullRangeInt8Weights |= scheme.fullRangeInt8();
    g.putInitializer(TensorCodec.fromInts(q, p.scheme().type(), kn, p.quantize(w, kn)));
    g.putInitializer(TensorCodec.fromFloats(sc, pdims, p.scale()));
    g.putInitializer(TensorCodec.fromInts(zp, p.scheme().type(), pdims, p.zeroPoint()));
    String[] a = activationQuantizer(n.input(0));
    String mask = n.inputs().size() > 3 ? n.input(3) : "";
    Node fused =
        Node.of(
            "QAttention",
            n.name().isEmpty() ? g.uniqueName("QAttention") : n.name(),
            List.of(a[0], q, n.input(2), a[1], sc, mask, a[2], zp),
            List.of(n.output(0)));
    fused.setDomain(OnnxModel.MICROSOFT_DOMAIN);
    fused.setAttribute(Node.intAttr("num_heads", n.intAttribute("num_heads", 0)));
    g.removeNode(n);
    g.addNode(fused);
    byOp.merge(n.opType(), 1, Integer::sum);
    steps.add(step(n, "QAttention"));
    weights++;
    return null;
  }

  /**
   * y = MatMulIntegerToFloat(q, W) · s_row (+ bias): the int32 product scaled by the column scales
   * (and an activation scale of 1) inside ONNX Runtime's fused kernel, then by the row's scale, as
   * ONNX Runtime has no integer MatMul that takes per-row scales. The bias comes last, after the
   * row scale.
   */
  private void rowScaledMatMul(
      Node n, String weight, String weightScale, String weightZero, String bias, String output) {
    String[] a = perTokenQuantizer(n.input(0));
    String base = n.name().isEmpty() ? g.uniqueName("MatMulIntegerToFloat") : n.name();
    String product = g.uniqueName(base + "_column_scaled");
    String scaled = bias.isEmpty() ? output : g.uniqueName(base + "_scaled");
    Node fused =
        Node.of(
            "MatMulIntegerToFloat",
            base,
            List.of(a[0], weight, a[3], weightScale, a[2], weightZero),
            List.of(product));
    fused.setDomain(OnnxModel.MICROSOFT_DOMAIN);
    g.addNode(fused);
    g.addNode(
        Node.of("Mul", g.uniqueName(base + "_RowScale"), List.of(product, a[1]), List.of(scaled)));
    if (!bias.isEmpty()) {
      g.addNode(
          Node.of("Add", g.uniqueName(base + "_Bias"), List.of(scaled, bias), List.of(output)));
    }
  }
}

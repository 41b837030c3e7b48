package io.quantguard.quantize;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.Graph;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Weight-only block quantization: activations stay float, each constant MatMul/Gemm weight is
 * stored in 4-bit blocks along the reduction axis and consumed by ONNX Runtime's {@code
 * com.microsoft. MatMulNBits} (Y = A · dequant(B)ᵀ with B packed as [N, blocks, block/2]), the
 * following bias Add folded in; embedding tables go through {@link WeightTables}. The model shrinks
 * by about 7× where the weights are, and MatMulNBits computes with int8 activations on CPUs with
 * VNNI (accuracy level 4).
 */
final class WeightOnlyPass {
  private final OnnxModel model;
  private final Graph g;
  private final RecipeResolver recipe;
  private final WeightTables tables;
  private final Map<String, Integer> byOp = new TreeMap<>();
  private final List<QuantizationReport.Skipped> skipped = new ArrayList<>();
  private final List<QuantizationPlan.Step> steps = new ArrayList<>();
  private int weights;
  private final Map<String, String> scaledInputs = new java.util.HashMap<>();

  WeightOnlyPass(OnnxModel model, RecipeResolver recipe, WeightTables tables) {
    this.model = model;
    this.g = model.graph();
    this.recipe = recipe;
    this.tables = tables;
  }

  /**
   * The inputs of the weight-only matrix products, with their channel counts: calibration measures
   * their per-channel magnitudes for the activation-aware scales.
   */
  /** Whether any weight-only node needs the activation Gram matrix (GPTQ). */
  boolean needsGram() {
    return g.nodes().stream()
        .anyMatch(
            n -> {
              RecipeResolver.NodeSettings s = recipe.forNode(n);
              return s.quantize()
                  && s.mode() == Recipe.Mode.WEIGHT_ONLY
                  && n.opType().equals("MatMul")
                  && (s.weights().algorithm() == WeightSettings.Algorithm.AUTO
                      || s.weights().algorithm() == WeightSettings.Algorithm.GPTQ);
            });
  }

  Map<String, Integer> channelInputs() {
    Map<String, Integer> out = new java.util.LinkedHashMap<>();
    for (Node n : g.nodes()) {
      RecipeResolver.NodeSettings s = recipe.forNode(n);
      if (s.quantize() && s.mode() == Recipe.Mode.WEIGHT_ONLY && n.opType().equals("MatMul")) {
        g.initializer(n.input(1))
            .filter(t -> t.getDimsCount() == 2)
            .ifPresent(t -> out.put(n.input(0), (int) t.getDims(0)));
      }
    }
    return out;
  }

  /**
   * Rewrites every weight-only node; {@code channels} (may be empty) enables activation-aware
   * scales.
   */
  void run(Map<String, ChannelStatistics> channels) {
    Map<String, float[]> inputScales = activationAwareScales(channels);
    for (Node n : new ArrayList<>(g.topologicalOrder())) {
      RecipeResolver.NodeSettings s = recipe.forNode(n);
      if (!s.quantize() || s.mode() != Recipe.Mode.WEIGHT_ONLY) {
        continue;
      }
      if (n.opType().equals("MatMul") || n.opType().equals("Gemm")) {
        String why =
            rewrite(
                n,
                s.weights(),
                n.opType().equals("MatMul") ? inputScales.get(n.input(0)) : null,
                n.opType().equals("MatMul") ? channels.get(n.input(0)) : null);
        if (why != null) {
          skipped.add(new QuantizationReport.Skipped(n.name(), n.opType(), why));
        }
      } else if (n.opType().equals("Gather") && tables.quantize(n, s.weights())) {
        byOp.merge("Gather", 1, Integer::sum);
        steps.add(step(n, "int8 table"));
        weights++;
      }
    }
    g.removeUnusedInitializers();
  }

  Map<String, Integer> quantizedByOp() {
    return byOp;
  }

  List<QuantizationReport.Skipped> skipped() {
    return skipped;
  }

  List<QuantizationPlan.Step> steps() {
    return steps;
  }

  private static QuantizationPlan.Step step(Node n, String form) {
    return new QuantizationPlan.Step(n.name(), n.opType(), Recipe.Mode.WEIGHT_ONLY, form);
  }

  int quantizedWeights() {
    return weights;
  }

  /**
   * Activation-aware scales (Lin et al., "AWQ", 2023): the weight rows that meet large activations
   * matter most, so scale input channel k of the weights up by s_k = (mean |x_k|)^α (normalized to
   * a geometric mean of 1) and the activation down by 1/s_k — the product is unchanged, but the
   * important weights now take a larger share of each 4-bit block's range. α is searched on a grid
   * per input tensor (shared by the MatMuls that read it, like the query, key and value
   * projections), minimizing the expected output error Σ_k E[x_k²] Σ_n (w_kn − ŵ_kn)², the diagonal
   * approximation of ‖x·(W − Ŵ)‖².
   */
  /** The weight-only MatMuls that read one activation, and that activation's statistics. */
  private record AwqGroup(ChannelStatistics stats, List<Node> nodes) {}

  private Map<String, float[]> activationAwareScales(Map<String, ChannelStatistics> channels) {
    Map<String, AwqGroup> groups = new java.util.LinkedHashMap<>();
    for (Node n : g.nodes()) {
      RecipeResolver.NodeSettings s = recipe.forNode(n);
      ChannelStatistics stats = channels.get(n.input(0));
      if (s.quantize()
          && s.mode() == Recipe.Mode.WEIGHT_ONLY
          && n.opType().equals("MatMul")
          && stats != null
          && algorithm(s.weights(), stats) == WeightSettings.Algorithm.AWQ) {
        groups
            .computeIfAbsent(n.input(0), k -> new AwqGroup(stats, new ArrayList<>()))
            .nodes()
            .add(n);
      }
    }
    Map<String, float[]> out = new java.util.HashMap<>();
    for (Map.Entry<String, AwqGroup> e : groups.entrySet()) {
      ChannelStatistics cs = e.getValue().stats();
      List<float[]> matrices = new ArrayList<>();
      List<int[]> shapes = new ArrayList<>();
      WeightSettings ws = recipe.forNode(e.getValue().nodes().get(0)).weights();
      Scheme scheme = ws.scheme();
      if (scheme.type().bits() != 4 && scheme.type().bits() != 8) {
        continue;
      }
      for (Node n : e.getValue().nodes()) {
        Optional<TensorProto> t = g.initializer(n.input(1));
        if (t.isEmpty() || t.get().getDimsCount() != 2 || t.get().getDims(0) != cs.channels()) {
          continue;
        }
        int k = (int) t.get().getDims(0);
        int cols = (int) t.get().getDims(1);
        matrices.add(transpose(model.floats(n.input(1)), k, cols));
        shapes.add(new int[] {cols, k});
      }
      if (matrices.isEmpty()) {
        continue;
      }
      int k = cs.channels();
      double bestErr = Double.POSITIVE_INFINITY;
      float[] best = null;
      for (int step = 0; step <= 10; step++) {
        float[] sc = scalesFor(cs, step / 10.0);
        double err = 0;
        for (int m = 0; m < matrices.size(); m++) {
          err +=
              outputError(
                  matrices.get(m),
                  shapes.get(m)[0],
                  k,
                  sc,
                  cs,
                  ws.blockSize(),
                  scheme,
                  ws.method());
        }
        if (err < bestErr) {
          bestErr = err;
          best = step == 0 ? null : sc;
        }
      }
      if (best != null) {
        out.put(e.getKey(), best);
      }
    }
    return out;
  }

  private static float[] scalesFor(ChannelStatistics cs, double alpha) {
    int k = cs.channels();
    double[] s = new double[k];
    double logSum = 0;
    for (int i = 0; i < k; i++) {
      s[i] = Math.pow(Math.max(cs.meanAbs(i), 1e-8), alpha);
      logSum += Math.log(s[i]);
    }
    double geo = Math.exp(logSum / k);
    float[] out = new float[k];
    for (int i = 0; i < k; i++) {
      out[i] = (float) Math.max(s[i] / geo, 1e-4);
    }
    return out;
  }

  /** Σ_k E[x_k²] Σ_n (w_nk − dequant(quant(w_nk·s_k))/s_k)² for a weight laid out [N, K]. */
  private static double outputError(
      float[] nk,
      int rows,
      int k,
      float[] s,
      ChannelStatistics cs,
      int block,
      Scheme scheme,
      Recipe.WeightMethod method) {
    float[] scaled = new float[nk.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < k; c++) {
        scaled[r * k + c] = nk[r * k + c] * s[c];
      }
    }
    BlockQuantization bq = BlockQuantization.of(scaled, rows, k, block, scheme, method);
    int blocks = bq.blocks();
    double err = 0;
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < k; c++) {
        int b = r * blocks + c / block;
        double w = (bq.codes()[r * k + c] - bq.zeroPoints()[b]) * (double) bq.scales()[b] / s[c];
        double d = nk[r * k + c] - w;
        err += cs.meanSquare(c) * d * d;
      }
    }
    return err;
  }

  /** The algorithm a node's weights get, resolving {@code auto} by the data at hand. */
  static WeightSettings.Algorithm algorithm(WeightSettings ws, @Nullable ChannelStatistics stats) {
    boolean gram = stats != null && stats.hasGram();
    return switch (ws.algorithm()) {
      case AUTO, GPTQ -> gram ? WeightSettings.Algorithm.GPTQ : WeightSettings.Algorithm.RTN;
      case AWQ -> stats != null ? WeightSettings.Algorithm.AWQ : WeightSettings.Algorithm.RTN;
      case RTN -> WeightSettings.Algorithm.RTN;
    };
  }

  private @Nullable String rewrite(
      Node n, WeightSettings ws, float @Nullable [] inputScale, @Nullable ChannelStatistics stats) {
    boolean gemm = n.opType().equals("Gemm");
    Optional<TensorProto> bt = g.initializer(n.input(1));
    if (bt.isEmpty()
        || bt.get().getDataType() != DataType.FLOAT.code()
        || bt.get().getDimsCount() != 2) {
      return "second input is not a constant float matrix";
    }
    if (gemm
        && (n.intAttribute("transA", 0) != 0
            || n.floatAttribute("alpha", 1f) != 1f
            || n.floatAttribute("beta", 1f) != 1f)) {
      return "Gemm with transA, alpha or beta other than the defaults";
    }
    Scheme scheme = ws.scheme();
    int bits = scheme.type().bits();
    if (bits != 4 && bits != 8) {
      return "weight-only blocks are 4-bit or 8-bit, not " + scheme.type().displayName();
    }
    long[] dims = TensorCodec.dims(bt.get());
    float[] w = model.floats(n.input(1));
    boolean transposed = gemm && n.intAttribute("transB", 0) == 1;
    int k = (int) (transposed ? dims[1] : dims[0]);
    int cols = (int) (transposed ? dims[0] : dims[1]);
    float[] nk = transposed ? w : transpose(w, k, cols);
    String input = n.input(0);
    if (inputScale != null) {
      for (int r = 0; r < cols; r++) {
        for (int c = 0; c < k; c++) {
          nk[r * k + c] *= inputScale[c];
        }
      }
      input = scaledInput(n.input(0), inputScale);
    }
    BlockQuantization bq =
        stats != null
                && algorithm(ws, stats) == WeightSettings.Algorithm.GPTQ
                && !transposed
                && inputScale == null
            ? Gptq.quantize(nk, cols, k, stats.gram(), ws.blockSize(), scheme)
            : BlockQuantization.of(nk, cols, k, ws.blockSize(), scheme, ws.method());
    String base = n.input(1);
    if (ws.format() == WeightSettings.Format.QDQ) {
      blockedDequantizer(n, bq, k, cols, ws.blockSize(), input, transposed);
      return null;
    }
    String packed = g.uniqueName(base + "_nbits");
    String scales = g.uniqueName(base + "_block_scale");
    g.putInitializer(
        TensorCodec.fromRaw(
            packed,
            DataType.UINT8,
            new long[] {cols, bq.blocks(), ws.blockSize() * bits / 8},
            bits == 4 ? bq.packedUnsigned4() : bq.packedUnsigned8()));
    g.putInitializer(
        TensorCodec.fromFloats(scales, new long[] {(long) cols * bq.blocks()}, bq.scales()));
    List<String> inputs = new ArrayList<>(List.of(input, packed, scales));
    if (!scheme.type().isSigned()) {
      String zps = g.uniqueName(base + "_block_zero_point");
      byte[] z = bits == 4 ? bq.packedZeroPoints4() : bq.zeroPoints8();
      g.putInitializer(TensorCodec.fromRaw(zps, DataType.UINT8, new long[] {z.length}, z));
      inputs.add(zps);
    }
    String output = n.output(0);
    String bias = gemm ? n.input(2) : "";
    Node absorbed = null;
    if (!gemm) {
      absorbed = BiasFolding.foldableAdd(g, output, cols);
      if (absorbed != null) {
        bias = absorbed.input(0).equals(output) ? absorbed.input(1) : absorbed.input(0);
        output = absorbed.output(0);
      }
    } else if (!bias.isEmpty()) {
      Optional<TensorProto> c = g.initializer(bias);
      if (c.isEmpty() || c.get().getDimsCount() != 1 || c.get().getDims(0) != cols) {
        return "Gemm bias is not a constant vector of " + cols;
      }
    }
    if (!bias.isEmpty()) {
      while (inputs.size() < 5) {
        inputs.add("");
      }
      inputs.add(bias);
    }
    Node nbits = Node.of("MatMulNBits", n.name(), inputs, List.of(output));
    nbits.setDomain(OnnxModel.MICROSOFT_DOMAIN);
    nbits.setAttribute(Node.intAttr("K", k));
    nbits.setAttribute(Node.intAttr("N", cols));
    nbits.setAttribute(Node.intAttr("bits", bits));
    nbits.setAttribute(Node.intAttr("block_size", ws.blockSize()));
    nbits.setAttribute(Node.intAttr("accuracy_level", 4));
    g.removeNode(n);
    if (absorbed != null) {
      g.removeNode(absorbed);
    }
    g.addNode(nbits);
    byOp.merge(n.opType(), 1, Integer::sum);
    steps.add(step(n, "MatMulNBits"));
    weights++;
    return null;
  }

  /**
   * The standard form: the integer weight in its original layout behind an opset-21
   * DequantizeLinear whose block axis is the reduction axis ({@code axis = 0} for a MatMul's [K,
   * N], 1 for a Gemm's transposed [N, K]), feeding the original node. Any ONNX runtime reads it;
   * ONNX Runtime fuses it back into MatMulNBits where it can.
   */
  private void blockedDequantizer(
      Node n, BlockQuantization bq, int k, int cols, int block, String input, boolean transposed) {
    int blocks = bq.blocks();
    String base = n.input(1);
    String q = g.uniqueName(base + "_quantized");
    String s = g.uniqueName(base + "_block_scale");
    String z = g.uniqueName(base + "_block_zero_point");
    DataType type = bq.scheme().type();
    if (transposed) {
      g.putInitializer(TensorCodec.fromInts(q, type, new long[] {cols, k}, bq.codes()));
      g.putInitializer(TensorCodec.fromFloats(s, new long[] {cols, blocks}, bq.scales()));
      g.putInitializer(TensorCodec.fromInts(z, type, new long[] {cols, blocks}, bq.zeroPoints()));
    } else {
      int[] codes = new int[k * cols];
      float[] scales = new float[blocks * cols];
      int[] zps = new int[blocks * cols];
      for (int r = 0; r < cols; r++) {
        for (int c = 0; c < k; c++) {
          codes[c * cols + r] = bq.codes()[r * k + c];
        }
        for (int b = 0; b < blocks; b++) {
          scales[b * cols + r] = bq.scales()[r * blocks + b];
          zps[b * cols + r] = bq.zeroPoints()[r * blocks + b];
        }
      }
      g.putInitializer(TensorCodec.fromInts(q, type, new long[] {k, cols}, codes));
      g.putInitializer(TensorCodec.fromFloats(s, new long[] {blocks, cols}, scales));
      g.putInitializer(TensorCodec.fromInts(z, type, new long[] {blocks, cols}, zps));
    }
    String dq = g.uniqueName(base + "_dequantized");
    Node d =
        Node.of(
            "DequantizeLinear",
            g.uniqueName(base + "_DequantizeLinear"),
            List.of(q, s, z),
            List.of(dq));
    d.setAttribute(Node.intAttr("axis", transposed ? 1 : 0));
    d.setAttribute(Node.intAttr("block_size", block));
    g.addNode(d);
    n.setInput(0, input);
    n.setInput(1, dq);
    byOp.merge(n.opType(), 1, Integer::sum);
    steps.add(step(n, "blocked DequantizeLinear"));
    weights++;
  }

  /** Whether the recipe asks for the standard blocked DequantizeLinear, which needs opset 21. */
  boolean needsOpset21() {
    return g.nodes().stream()
        .anyMatch(
            n -> {
              RecipeResolver.NodeSettings s = recipe.forNode(n);
              return s.quantize()
                  && s.mode() == Recipe.Mode.WEIGHT_ONLY
                  && (n.opType().equals("MatMul") || n.opType().equals("Gemm"))
                  && s.weights().format() == WeightSettings.Format.QDQ;
            });
  }

  /** x / s for the activation-aware scales, computed once per input tensor. */
  private String scaledInput(String x, float[] s) {
    return scaledInputs.computeIfAbsent(
        x,
        t -> {
          float[] inv = new float[s.length];
          for (int i = 0; i < s.length; i++) {
            inv[i] = 1f / s[i];
          }
          String factor = g.uniqueName(t + "_awq_inverse_scale");
          g.putInitializer(TensorCodec.fromFloats(factor, new long[] {s.length}, inv));
          String out = g.uniqueName(t + "_awq_scaled");
          g.addNode(
              Node.of("Mul", g.uniqueName(t + "_AwqScale"), List.of(t, factor), List.of(out)));
          return out;
        });
  }

  static float[] transpose(float[] w, int rows, int cols) {
    float[] t = new float[w.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        t[c * rows + r] = w[r * cols + c];
      }
    }
    return t;
  }
}

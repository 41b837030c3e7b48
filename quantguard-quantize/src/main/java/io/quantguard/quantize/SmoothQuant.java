package io.quantguard.quantize;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.Graph;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * SmoothQuant migration (Xiao et al., "SmoothQuant: Accurate and Efficient Post-Training
 * Quantization for Large Language Models", ICML 2023) for statically quantized matrix products Y =
 * X·W with a constant weight W of shape [K, N] (a Gemm with {@code transB} stores Wᵀ): a few input
 * channels of X carry outliers that stretch its one per-tensor activation scale, while the weights
 * are quantized per output column and could absorb a larger range. With the migration strength α ∈
 * [0, 1], for each input channel j
 *
 * <pre>
 *   s_j = max|X_j|^α / max|W_j|^(1−α)       (W_j = row j of W, the reduction axis)
 *   s_j clamped to [1e-5, 1e5];  s_j = 1 where max|X_j| = 0 or max|W_j| = 0
 *   X·W = (X · diag(1/s)) · (diag(s) · W)
 * </pre>
 *
 * α = 0.5 balances the per-channel ranges of X/s and sW (both become √(max|X_j|·max|W_j|)); larger
 * α moves more of the difficulty into the weights. The rewrite inserts a Mul (X × 1/s, a new [K]
 * initializer) that feeds only the smoothed node (other consumers of X keep the raw tensor; two
 * smoothed nodes reading one X get a Mul each), and replaces the weight by diag(s)·W before it is
 * quantized. ONNX Runtime still fuses the QDQ MatMul; the Mul runs in float in front of the
 * QuantizeLinear.
 *
 * <p>The quantization range of X/s comes from the per-channel extremes calibration collected
 * ({@link ChannelStatistics}): [min_j min_j/s_j, max_j max_j/s_j] — the exact min/max of the
 * smoothed tensor. The histogram methods (percentile, entropy, mse) cannot apply: the histogram of
 * X/s was never observed, so a smoothed input always uses min/max, whatever its method says.
 */
final class SmoothQuant {
  static final Set<String> OP_TYPES = Set.of("MatMul", "Gemm");
  static final double MIN_FACTOR = 1e-5;
  static final double MAX_FACTOR = 1e5;

  /** One smoothed input: the node, the raw tensor X, the factors s and the range of X/s. */
  record Smoothed(String node, String source, float[] factors, Range range) {}

  /** What the rewrite did: the smoothed tensors (by name) and the Mul nodes it inserted. */
  record Result(Map<String, Smoothed> tensors, Set<String> insertedNodes, List<String> notes) {
    static final Result NONE = new Result(Map.of(), Set.of(), List.of());

    /** The calibrated tensor behind a (possibly smoothed) tensor. */
    String source(String tensor) {
      Smoothed s = tensors.get(tensor);
      return s == null ? tensor : s.source();
    }
  }

  private SmoothQuant() {}

  /**
   * Why a node cannot be smoothed, or null when it can: it must be a MatMul or Gemm multiplying an
   * activation (input 0, not transposed) by a constant 2-D float weight (input 1).
   */
  static @Nullable String ineligible(Graph g, Node n) {
    if (!OP_TYPES.contains(n.opType()) || !n.domain().isEmpty()) {
      return "is a " + n.opType() + ", not a MatMul or Gemm";
    }
    Optional<TensorProto> w = g.initializer(n.input(1));
    if (w.isEmpty()
        || w.get().getDataType() != DataType.FLOAT.code()
        || w.get().getDimsCount() != 2) {
      return "has no constant 2-D float weight as its second input";
    }
    if (g.isInitializer(n.input(0))) {
      return "has a constant first input (no activation to smooth)";
    }
    if (n.opType().equals("Gemm") && n.intAttribute("transA", 0) != 0) {
      return "is a Gemm with transA = 1 (its input channels are not on the last axis)";
    }
    return null;
  }

  /** K, the number of input channels of an eligible node. */
  static int inputChannels(Graph g, Node n) {
    long[] dims = TensorCodec.dims(g.initializer(n.input(1)).orElseThrow());
    return (int) (transposed(n) ? dims[1] : dims[0]);
  }

  static boolean transposed(Node n) {
    return n.opType().equals("Gemm") && n.intAttribute("transB", 0) != 0;
  }

  /**
   * s_j = xMax_j^α / wMax_j^(1−α), clamped to [{@link #MIN_FACTOR}, {@link #MAX_FACTOR}], 1 where
   * either maximum is 0.
   */
  static float[] factors(float[] xAbsMax, float[] wAbsMax, double alpha) {
    float[] s = new float[xAbsMax.length];
    for (int j = 0; j < s.length; j++) {
      if (!(xAbsMax[j] > 0) || !(wAbsMax[j] > 0)) {
        s[j] = 1f;
        continue;
      }
      double f = Math.pow(xAbsMax[j], alpha) / Math.pow(wAbsMax[j], 1 - alpha);
      s[j] = (float) Math.max(MIN_FACTOR, Math.min(MAX_FACTOR, f));
    }
    return s;
  }

  /** max_n |W_jn| for each input channel j of a [K, N] weight (or of its transpose [N, K]). */
  static float[] weightRowAbsMax(float[] w, long[] dims, boolean transposed) {
    int rows = (int) dims[0];
    int cols = (int) dims[1];
    float[] m = new float[transposed ? cols : rows];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        int j = transposed ? c : r;
        m[j] = Math.max(m[j], Math.abs(w[r * cols + c]));
      }
    }
    return m;
  }

  /** diag(s)·W: input channel j of the weight multiplied by s_j. */
  static float[] scaleWeight(float[] w, long[] dims, boolean transposed, float[] s) {
    int rows = (int) dims[0];
    int cols = (int) dims[1];
    float[] out = new float[w.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        out[r * cols + c] = w[r * cols + c] * s[transposed ? c : r];
      }
    }
    return out;
  }

  /** 1/s_j, what the inserted Mul multiplies X by. */
  static float[] inverse(float[] s) {
    float[] inv = new float[s.length];
    for (int j = 0; j < s.length; j++) {
      inv[j] = 1f / s[j];
    }
    return inv;
  }

  /** [min_j min_j/s_j, max_j max_j/s_j]: the range of X/s, from X's per-channel extremes. */
  static Range smoothedRange(ChannelStatistics x, float[] s) {
    float[] inv = inverse(s);
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < s.length; j++) {
      // The float product is what the inserted Mul computes.
      lo = Math.min(lo, x.min(j) * inv[j]);
      hi = Math.max(hi, x.max(j) * inv[j]);
    }
    return new Range(lo, hi);
  }

  /**
   * Smooths every static MatMul/Gemm whose settings ask for it, before the QDQ pass plans the
   * graph.
   *
   * @param channels per-channel statistics of the calibration; a smoothed node's input must be
   *     among them
   */
  static Result apply(
      OnnxModel model, RecipeResolver recipe, Map<String, ChannelStatistics> channels) {
    Graph g = model.graph();
    Map<String, Smoothed> tensors = new LinkedHashMap<>();
    Set<String> inserted = new java.util.LinkedHashSet<>();
    List<String> notes = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    for (Node n : new ArrayList<>(g.topologicalOrder())) {
      RecipeResolver.NodeSettings s = recipe.forNode(n);
      if (s.smooth() == null || !s.quantize() || !OP_TYPES.contains(n.opType())) {
        continue; // a global smooth applies to the quantized matrix products only
      }
      if (s.mode() == Recipe.Mode.DYNAMIC) {
        continue; // the dynamic pass smooths its own nodes (DynamicPass)
      }
      String why = ineligible(g, n);
      if (why == null && s.mode() != Recipe.Mode.STATIC) {
        why = "is quantized in " + s.mode() + " mode (smoothing is for static quantization)";
      }
      String x = n.input(0);
      if (why == null && recipe.tensorKeptFloat(x)) {
        why = "reads '" + x + "', which the recipe keeps in fp32";
      }
      if (why == null && !g.typeOf(x).map(t -> t.elementType() == DataType.FLOAT).orElse(false)) {
        why = "reads '" + x + "', which is not a float tensor";
      }
      if (why != null) {
        skipped.add("'" + n.name() + "' " + why);
        continue;
      }
      int k = inputChannels(g, n);
      ChannelStatistics cs = channels.get(x);
      if (cs == null || cs.channels() != k || cs.axis() != ChannelStatistics.Axis.LAST) {
        throw missingChannels(n, x, "smooths");
      }
      String w = n.input(1);
      long[] dims = TensorCodec.dims(model.requireInitializer(w));
      float[] values = model.floats(w);
      boolean t = transposed(n);
      float[] f = factors(cs.absMaxes(), weightRowAbsMax(values, dims, t), s.smooth());
      String scaled = g.uniqueName(w + "_smoothed");
      g.putInitializer(TensorCodec.fromFloats(scaled, dims, scaleWeight(values, dims, t, f)));
      String inv = g.uniqueName(n.name() + "_smooth_inverse");
      g.putInitializer(TensorCodec.fromFloats(inv, new long[] {k}, inverse(f)));
      String xs = g.uniqueName(x + "_smoothed");
      Node mul = Node.of("Mul", g.uniqueName(n.name() + "_Smooth"), List.of(x, inv), List.of(xs));
      g.addNode(mul);
      g.typeOf(x).ifPresent(type -> g.putValueInfo(type.toValueInfo(xs)));
      n.setInput(0, xs);
      n.setInput(1, scaled);
      inserted.add(mul.name());
      tensors.put(xs, new Smoothed(n.name(), x, f, smoothedRange(cs, f)));
    }
    if (!tensors.isEmpty()) {
      g.removeUnusedInitializers();
      g.sortTopologically();
      boolean histogram =
          tensors.values().stream()
              .map(t -> recipe.forNode(g.node(t.node()).orElseThrow()).activations().calibrator())
              .anyMatch(c -> !c.equals(new Calibrator.MinMax(false)));
      notes.add(
          "smoothed "
              + tensors.size()
              + " MatMul/Gemm input(s) (SmoothQuant)"
              + (histogram
                  ? "; their ranges are the min/max of the per-channel extremes, since the"
                      + " histogram methods need the smoothed values, which calibration did not see"
                  : ""));
    }
    if (!skipped.isEmpty()) {
      notes.add(
          "not smoothed ("
              + skipped.size()
              + "): "
              + String.join("; ", skipped.subList(0, Math.min(3, skipped.size())))
              + (skipped.size() > 3 ? "; ..." : ""));
    }
    return new Result(tensors, inserted, notes);
  }

  static InvalidInputException missingChannels(Node n, String tensor, String what) {
    return new InvalidInputException(
        "recipe",
        what
            + " node '"
            + n.name()
            + "', which needs the per-channel statistics of its input '"
            + tensor
            + "', and the calibration did not collect them",
        "calibrate with this recipe, or keep the statistics with `calibration: {channels: true}`");
  }
}

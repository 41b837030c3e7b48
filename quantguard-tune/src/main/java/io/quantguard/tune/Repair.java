package io.quantguard.tune;

import io.quantguard.onnx.Graph;
import io.quantguard.onnx.Node;
import io.quantguard.quantize.Calibrator;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.ResolvedRecipe;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A cheaper fix than higher precision for one sensitive node: another calibrator for its input
 * activations, per-channel or MSE-fitted weights, bias correction, SmoothQuant migration of
 * activation outliers into the weights, or 16-bit activations. Each is a set of recipe overrides;
 * the tuner measures every candidate on the node alone and keeps the best.
 *
 * @param name short label ({@code calibrator mse}, {@code weights per-channel})
 * @param overrides what the repair adds to the recipe
 */
record Repair(String name, List<Recipe.Override> overrides) {
  /** Repair kinds, as {@code --repairs} names them. */
  static final List<String> KINDS = List.of("calibrator", "weights", "smooth", "int16");

  /**
   * Int16 activations are off by default: ONNX Runtime's CPU provider has no 16-bit integer
   * kernels, so such a node runs in float between conversions, as slow as a float fallback.
   */
  static final Set<String> DEFAULT_KINDS = Set.of("calibrator", "weights", "smooth");

  /** SmoothQuant strengths tried on one node (the whole-model search tries more). */
  private static final double[] NODE_ALPHAS = {0.5, 0.75};

  private static final List<Calibrator> CALIBRATORS =
      List.of(
          new Calibrator.MinMax(false),
          new Calibrator.Mse(),
          new Calibrator.Entropy(),
          new Calibrator.Percentile(99.999),
          new Calibrator.Percentile(99.99));

  /** The repairs worth trying on a statically quantized node, given the recipe's settings. */
  static List<Repair> candidates(
      Graph g, String nodeName, ResolvedRecipe resolved, Set<String> kinds) {
    Node n = g.node(nodeName).orElseThrow();
    List<String> inputs = activationInputs(g, n);
    List<Repair> out = new ArrayList<>();
    if (kinds.contains("calibrator") && !inputs.isEmpty()) {
      Calibrator current = resolved.calibrator();
      for (Calibrator c : CALIBRATORS) {
        if (c.equals(current)) {
          continue;
        }
        String label =
            c instanceof Calibrator.Percentile p
                ? c.method() + " " + fmt(p.percentile())
                : c.method();
        List<Recipe.Override> o = new ArrayList<>();
        for (String t : inputs) {
          o.add(
              Recipe.Override.tensor(t)
                  .activations(Recipe.Activations.builder().calibrator(c).build())
                  .because("tune: calibrator " + label));
        }
        out.add(new Repair("calibrator " + label, o));
      }
    }
    boolean hasWeight = n.inputs().stream().skip(1).anyMatch(g::isInitializer);
    if (kinds.contains("weights") && hasWeight) {
      if (!resolved.perChannelWeights()) {
        out.add(
            new Repair(
                "weights per-channel",
                List.of(
                    Recipe.Override.node(nodeName)
                        .weights(Recipe.Weights.builder().symmetric(true).perChannel(true).build())
                        .because("tune: per-channel weights"))));
      }
      if (!resolved.biasCorrection()) {
        out.add(
            new Repair(
                "weights bias correction",
                List.of(
                    Recipe.Override.node(nodeName)
                        .weights(Recipe.Weights.builder().biasCorrection(true).build())
                        .because("tune: bias correction of the weights' expected output error"))));
      }
      if (resolved.weightMethod() != Recipe.WeightMethod.MSE) {
        out.add(
            new Repair(
                "weights mse",
                List.of(
                    Recipe.Override.node(nodeName)
                        .weights(Recipe.Weights.builder().method(Recipe.WeightMethod.MSE).build())
                        .because("tune: weight ranges fitted by MSE"))));
      }
    }
    if (kinds.contains("smooth") && smoothable(g, n, inputs)) {
      for (double alpha : NODE_ALPHAS) {
        out.add(
            new Repair(
                "smooth " + alpha,
                List.of(
                    Recipe.Override.node(nodeName)
                        .smooth(alpha)
                        .because("tune: SmoothQuant α " + alpha))));
      }
    }
    if (kinds.contains("int16") && !inputs.isEmpty()) {
      List<Recipe.Override> o = new ArrayList<>();
      for (String t : inputs) {
        o.add(
            Recipe.Override.tensor(t)
                .activations(Recipe.Activations.builder().type("int16").symmetric(true).build())
                .because("tune: int16 activations"));
      }
      out.add(new Repair("int16 activations", o));
    }
    return out;
  }

  /** A MatMul or Gemm of one activation by a constant 2-D weight: what SmoothQuant rescales. */
  private static boolean smoothable(Graph g, Node n, List<String> inputs) {
    if (!Set.of("MatMul", "Gemm").contains(n.opType()) || inputs.size() != 1) {
      return false;
    }
    return g.initializer(n.input(1)).map(w -> w.getDimsCount() == 2).orElse(false);
  }

  /** The node's float inputs that are computed, not stored: the ones calibration scales. */
  static List<String> activationInputs(Graph g, Node n) {
    List<String> out = new ArrayList<>();
    for (String in : n.inputs()) {
      if (in.isEmpty() || g.isInitializer(in)) {
        continue;
      }
      boolean constant = g.producer(in).map(p -> p.opType().equals("Constant")).orElse(false);
      if (!constant) {
        out.add(in);
      }
    }
    if (n.opType().equals("Gather")) {
      return List.of(); // the indices are integers; only the table is quantized
    }
    return out;
  }

  private static String fmt(double p) {
    return String.format(Locale.ROOT, "%s", p).replaceAll("\\.0$", "");
  }
}

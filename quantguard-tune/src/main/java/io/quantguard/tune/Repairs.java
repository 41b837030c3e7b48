package io.quantguard.tune;

import io.quantguard.onnx.Graph;
import io.quantguard.onnx.Node;
import io.quantguard.quantize.Calibrator;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.ResolvedRecipe;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Which {@link Repair}s fit a node of the model. */
final class Repairs {
  private Repairs() {}

  /** SmoothQuant strengths tried on one node (the whole-model search tries more). */
  private static final double[] NODE_ALPHAS = {0.5, 0.75};

  /** The calibrators a node may try instead of the recipe's. */
  private static final List<Calibrator> CALIBRATORS =
      List.of(
          new Calibrator.MinMax(false),
          new Calibrator.Mse(),
          new Calibrator.Entropy(),
          new Calibrator.Percentile(99.999),
          new Calibrator.Percentile(99.99));

  /**
   * The repairs worth trying on a statically quantized node, given the recipe's settings. Dynamic
   * int8 is offered for a MatMul or Gemm with a constant 2-D weight when the recipe's weights are 8
   * bits (with narrower weights the switch would also widen them, which is a fallback's job).
   */
  static List<Repair> candidates(
      Graph g, String nodeName, ResolvedRecipe resolved, Set<String> kinds) {
    Node n = g.node(nodeName).orElseThrow();
    List<String> inputs = activationInputs(g, n);
    List<Repair> out = new ArrayList<>();
    if (kinds.contains("calibrator") && !inputs.isEmpty()) {
      Calibrator current = resolved.calibrator();
      for (Calibrator c : CALIBRATORS) {
        if (!c.equals(current)) {
          out.add(Repair.Calibrate.of(c));
        }
      }
    }
    boolean hasWeight = n.inputs().stream().skip(1).anyMatch(g::isInitializer);
    if (kinds.contains("weights") && hasWeight) {
      if (!resolved.perChannelWeights()) {
        out.add(new Repair.PerChannelWeights());
      }
      if (!resolved.biasCorrection()) {
        out.add(new Repair.BiasCorrection());
      }
      if (resolved.weightMethod() != Recipe.WeightMethod.MSE) {
        out.add(new Repair.WeightFit(Recipe.WeightMethod.MSE));
      }
    }
    boolean matMul = weightedMatMul(g, n, inputs);
    if (kinds.contains("smooth") && matMul) {
      for (double alpha : NODE_ALPHAS) {
        out.add(new Repair.Smooth(alpha));
      }
    }
    if (kinds.contains("int16") && !inputs.isEmpty()) {
      out.add(new Repair.Int16());
    }
    if (kinds.contains("dynamic") && matMul && resolved.weightType().bits() >= 8) {
      out.add(new Repair.Dynamic(false));
      out.add(new Repair.Dynamic(true));
    }
    return out;
  }

  /**
   * A MatMul or Gemm of one activation by a constant 2-D weight: what SmoothQuant rescales and
   * dynamic int8 quantizes.
   */
  private static boolean weightedMatMul(Graph g, Node n, List<String> inputs) {
    if (!Set.of("MatMul", "Gemm").contains(n.opType()) || inputs.size() != 1) {
      return false;
    }
    return g.initializer(n.input(1)).map(w -> w.getDimsCount() == 2).orElse(false);
  }

  /** The node's float inputs that are computed, not stored: the ones calibration scales. */
  static List<String> activationInputs(Graph g, Node n) {
    if (n.opType().equals("Gather")) {
      return List.of(); // the indices are integers; only the table is quantized
    }
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
    return out;
  }
}

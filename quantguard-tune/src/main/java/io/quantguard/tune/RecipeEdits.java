package io.quantguard.tune;

import io.quantguard.quantize.Recipe;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The recipe edits tuning makes, each an override with its rationale appended to a recipe: the one
 * place that builds {@link Recipe.Override}s, so a recipe the tuner writes reads like one a person
 * wrote.
 */
final class RecipeEdits {
  private RecipeEdits() {}

  static Recipe with(Recipe base, List<Recipe.Override> extra, String rationale) {
    List<Recipe.Override> all =
        new ArrayList<>(base.overrides() == null ? List.of() : base.overrides());
    all.addAll(extra);
    Recipe r = base.withOverrides(all);
    return rationale != null ? r.withRationale(rationale) : r;
  }

  /**
   * The recipe with only {@code keep} of the planned nodes {@code all} quantized (the others
   * excluded), as sensitivity analysis measures one node or group at a time.
   */
  static Recipe only(Recipe base, Collection<String> keep, List<String> all) {
    Recipe r = base.resolved();
    List<String> others = new ArrayList<>(r.exclude());
    all.stream().filter(n -> !keep.contains(n)).forEach(others::add);
    return r.withExclude(others);
  }

  /** The recipe with {@code node} left in float and everything else as it was. */
  static Recipe without(Recipe base, String node) {
    Recipe r = base.resolved();
    List<String> excluded = new ArrayList<>(r.exclude());
    excluded.add(node);
    return r.withExclude(excluded);
  }

  /** The recipe with SmoothQuant migration of strength {@code alpha} on every eligible node. */
  static Recipe withSmooth(Recipe base, double alpha, String rationale) {
    Recipe r = base.withSmooth(alpha);
    return rationale != null ? r.withRationale(rationale) : r;
  }

  static Recipe.Override nodeSmooth(String node, double alpha, String rationale) {
    return new Recipe.Override(null, null, node, null, null, null, null, null, alpha, rationale);
  }

  static Recipe.Override node(String node, String precision, String mode, String rationale) {
    return new Recipe.Override(mode, null, node, null, null, precision, null, null, rationale);
  }

  static Recipe.Override nodeWeights(String node, Recipe.Weights weights, String rationale) {
    return new Recipe.Override(null, null, node, null, null, null, null, weights, rationale);
  }

  static Recipe.Override tensorActivations(
      String tensor, Recipe.Activations activations, String rationale) {
    return new Recipe.Override(null, null, null, null, tensor, null, activations, null, rationale);
  }

  static Recipe.Activations method(String method, Double percentile) {
    return new Recipe.Activations(null, null, method, percentile, null);
  }

  static Recipe.Weights weights(String type, Boolean symmetric, Boolean perChannel, String method) {
    return new Recipe.Weights(
        type, symmetric, perChannel, method, null, null, null, null, null, null);
  }

  static Recipe.Weights biasCorrection() {
    return new Recipe.Weights(null, null, null, null, null, null, null, null, null, true);
  }

  /** The same override with another rationale. */
  static Recipe.Override explained(Recipe.Override o, String rationale) {
    return new Recipe.Override(
        o.mode(),
        o.opType(),
        o.node(),
        o.nodeRegex(),
        o.tensor(),
        o.precision(),
        o.activations(),
        o.weights(),
        o.smooth(),
        rationale);
  }
}

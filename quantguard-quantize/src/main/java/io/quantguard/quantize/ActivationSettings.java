package io.quantguard.quantize;

/**
 * How one activation tensor is quantized, as {@link RecipeResolver} parsed it from the recipe.
 *
 * @param scheme integer type, symmetric or affine, reduced range
 * @param calibrator how its range is chosen from the calibration statistics
 * @param percentile the recipe's percentile here: the one a tensor override that switches to {@code
 *     method: percentile} without naming one clips at
 * @param perToken dynamic mode: a scale per row (token) of a MatMul's activation, not per tensor
 */
record ActivationSettings(
    Scheme scheme, Calibrator calibrator, double percentile, boolean perToken) {

  /** Settings with one scale per tensor. */
  ActivationSettings(Scheme scheme, Calibrator calibrator, double percentile) {
    this(scheme, calibrator, percentile, false);
  }
}

package io.quantguard.evaluate.drift;

import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * How a window compares with its reference profile, feature by feature.
 *
 * @param samples samples the window saw
 * @param features one entry per profile feature, in the profile's order
 * @param driftedShare the share of features (with samples) that drifted by their deciding method
 *     (Evidently's dataset drift compares it with 0.5)
 */
public record DriftResult(long samples, List<FeatureDrift> features, double driftedShare) {

  public DriftResult {
    features = List.copyOf(features);
  }

  public Optional<FeatureDrift> feature(String name) {
    return features.stream().filter(f -> f.feature().equals(name)).findFirst();
  }

  /**
   * One feature's comparison. Every measure that applies to the feature's kind is filled in (null
   * where it does not apply or the window has no samples of it); {@code method} decides.
   *
   * @param score the deciding method's value: a p-value for KS and chi-square, else a distance
   * @param drifted whether {@code score} crossed {@code threshold} (below for p-values, at or above
   *     for distances)
   * @param wasserstein the normed Wasserstein distance (numeric features)
   */
  public record FeatureDrift(
      String feature,
      Feature.Kind kind,
      long samples,
      DriftTests.Method method,
      @Nullable Double score,
      double threshold,
      boolean drifted,
      @Nullable Double ksStatistic,
      @Nullable Double ksPValue,
      @Nullable Double chiSquarePValue,
      @Nullable Double wasserstein,
      @Nullable Double jensenShannon,
      @Nullable Double psi,
      double referenceMean,
      @Nullable Double windowMean) {

    /**
     * How strongly the feature drifted, growing with drift whatever the method: the distance, or
     * −log<sub>10</sub> p for tests (so rank correlations over windows keep their sign).
     */
    public double magnitude() {
      if (score == null) {
        return Double.NaN;
      }
      return method.isTest() ? -Math.log10(Math.max(score, 1e-300)) : score;
    }
  }
}

package io.quantguard.evaluate.drift;

/**
 * One per-sample summary feature of a model input or output, as the reference data showed it.
 *
 * @param name {@code tensor:statistic}, e.g. {@code image:mean}, {@code logits:class}
 * @param tensor the model input or output it summarizes
 * @param statistic what it measures (see {@link ReferenceProfile} for the list)
 * @param samples reference samples it was computed on
 * @param mean mean over the reference samples
 * @param std population standard deviation over the reference samples (the Wasserstein norm)
 * @param edges numeric: the bin edges, ascending: the reference's quantiles at 1/k, 2/k, …,
 *     (k−1)/k, the value just below a quantile that repeats (a point mass gets its own bin), just
 *     below the minimum and at the maximum (values outside the reference's range get their own
 *     bins); categorical: empty
 * @param proportions the reference's share per bin (numeric: {@code edges.length + 1} bins) or per
 *     category
 * @param sample numeric: a uniform sample of the reference values, ascending (all of them when the
 *     reference is no larger than the sample size); categorical: empty
 */
public record Feature(
    String name,
    String tensor,
    String statistic,
    Kind kind,
    long samples,
    double mean,
    double std,
    double min,
    double max,
    double[] edges,
    double[] proportions,
    double[] sample) {

  /** Numeric features are compared as distributions, categorical ones as frequencies. */
  public enum Kind {
    NUMERIC,
    CATEGORICAL
  }

  /** A new, empty window sketch over this feature's reference bins. */
  FeatureSketch newSketch(int sampleSize, long seed) {
    return new FeatureSketch(kind, edges, proportions.length, sampleSize, seed);
  }
}

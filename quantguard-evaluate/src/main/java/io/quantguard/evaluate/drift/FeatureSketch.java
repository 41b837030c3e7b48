package io.quantguard.evaluate.drift;

import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The mergeable state of one per-sample feature over a window: count, mean and the sum of squared
 * deviations (Welford; merged with Chan et al.'s pairwise formula δ = x̄<sub>b</sub> −
 * x̄<sub>a</sub>, x̄ = x̄<sub>a</sub> + δ·n<sub>b</sub>/n, M2 = M2<sub>a</sub> + M2<sub>b</sub> +
 * δ²·n<sub>a</sub>n<sub>b</sub>/n), the extremes, counts per bin of the reference's edges (exact,
 * so PSI, Jensen–Shannon and chi-square see every sample) and, for numeric features, a uniform
 * {@link Reservoir} sample for Kolmogorov–Smirnov and Wasserstein.
 *
 * <p>Numeric bins are (−∞, e<sub>1</sub>], (e<sub>1</sub>, e<sub>2</sub>], …, (e<sub>k−1</sub>, ∞)
 * for edges e ascending, so a value equal to an edge falls in the bin the edge closes: a discrete
 * feature whose reference quantiles repeat still gets one bin per repeated value. A categorical
 * feature's bin is its category (a class index).
 */
final class FeatureSketch {
  private final Feature.Kind kind;
  private final double @Nullable [] edges;
  private final long @Nullable [] counts;
  private final @Nullable Reservoir sample;
  private long n;
  private double mean;
  private double m2;
  private double min = Double.POSITIVE_INFINITY;
  private double max = Double.NEGATIVE_INFINITY;

  /**
   * @param edges numeric bin edges, or null to keep no bins (while a reference is built and its
   *     edges are not known yet)
   * @param categories number of categories of a categorical feature
   * @param sampleSize capacity of a numeric feature's sample
   */
  FeatureSketch(
      Feature.Kind kind, double @Nullable [] edges, int categories, int sampleSize, long seed) {
    this.kind = kind;
    if (kind == Feature.Kind.CATEGORICAL) {
      this.edges = null;
      this.counts = new long[categories];
      this.sample = null;
    } else {
      this.edges = edges;
      this.counts = edges == null ? null : new long[edges.length + 1];
      this.sample = new Reservoir(sampleSize, seed);
    }
  }

  Feature.Kind kind() {
    return kind;
  }

  void add(double x) {
    n++;
    double d = x - mean;
    mean += d / n;
    m2 += d * (x - mean);
    min = Math.min(min, x);
    max = Math.max(max, x);
    if (kind == Feature.Kind.CATEGORICAL) {
      long[] byCategory = Objects.requireNonNull(counts, "a categorical sketch counts categories");
      int c = (int) x;
      if (c < 0 || c >= byCategory.length) {
        throw new IllegalArgumentException(
            "category " + c + " is outside the reference's " + byCategory.length + " categories");
      }
      byCategory[c]++;
    } else {
      if (counts != null && edges != null) {
        counts[bin(edges, x)]++;
      }
      Objects.requireNonNull(sample, "a numeric sketch keeps a sample").add(x);
    }
  }

  /** Folds in another sketch of the same feature. */
  void merge(FeatureSketch o) {
    if (o.kind != kind
        || (counts == null) != (o.counts == null)
        || (counts != null && counts.length != o.counts.length)) {
      throw new IllegalArgumentException("cannot merge sketches of different features");
    }
    if (o.n == 0) {
      return;
    }
    long total = n + o.n;
    double delta = o.mean - mean;
    mean += delta * o.n / total;
    m2 += o.m2 + delta * delta * n * (double) o.n / total;
    n = total;
    min = Math.min(min, o.min);
    max = Math.max(max, o.max);
    if (counts != null && o.counts != null) {
      for (int i = 0; i < counts.length; i++) {
        counts[i] += o.counts[i];
      }
    }
    if (sample != null && o.sample != null) {
      sample.merge(o.sample);
    }
  }

  /** Index of the bin (−∞, e<sub>1</sub>], (e<sub>1</sub>, e<sub>2</sub>], … holding {@code x}. */
  static int bin(double[] edges, double x) {
    // Edges ascend strictly; an edge closes its own bin.
    int i = Arrays.binarySearch(edges, x);
    return i >= 0 ? i : -i - 1;
  }

  long count() {
    return n;
  }

  double mean() {
    return n == 0 ? Double.NaN : mean;
  }

  /** Population standard deviation √(M2 / n), as {@code numpy.std}. */
  double std() {
    return n == 0 ? Double.NaN : Math.sqrt(Math.max(0, m2) / n);
  }

  double min() {
    return min;
  }

  double max() {
    return max;
  }

  /** Counts per bin or category (a copy), or null for a reference sketch without bins. */
  long @Nullable [] counts() {
    return counts == null ? null : counts.clone();
  }

  /** The numeric sample in ascending order, or an empty array for a categorical feature. */
  double[] sorted() {
    return sample == null ? new double[0] : sample.sorted();
  }

  DriftWindow.FeatureState state(String name) {
    return new DriftWindow.FeatureState(
        name,
        n,
        mean,
        m2,
        n == 0 ? 0 : min,
        n == 0 ? 0 : max,
        counts == null ? new long[0] : counts.clone(),
        sample == null ? 0 : sample.seen(),
        sample == null ? new double[0] : sample.values(),
        sample == null ? new long[0] : sample.priorities());
  }

  /** Puts a persisted state into this (empty) sketch. */
  void restore(DriftWindow.FeatureState s, long seed) {
    if (n != 0 || (counts != null && s.counts().length != counts.length)) {
      throw new IllegalArgumentException(
          "feature " + s.feature() + ": the persisted bins do not match the profile's");
    }
    n = s.samples();
    mean = s.mean();
    m2 = s.m2();
    min = n == 0 ? Double.POSITIVE_INFINITY : s.min();
    max = n == 0 ? Double.NEGATIVE_INFINITY : s.max();
    if (counts != null) {
      System.arraycopy(s.counts(), 0, counts, 0, counts.length);
    }
    if (sample != null) {
      sample.merge(
          Reservoir.restore(
              sample.capacity(), seed, s.sampleSeen(), s.sample(), s.samplePriorities()));
    }
  }
}

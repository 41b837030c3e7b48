package io.quantguard.evaluate;

import io.quantguard.report.MetricEstimate;
import io.quantguard.report.MetricSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Paired percentile bootstrap confidence intervals for headline metrics and their difference to the
 * baseline.
 *
 * <p>Given n samples, each of the B resamples draws n row indices uniformly with replacement (the
 * multinomial counts of each row) and recomputes every metric θ on that multiset, for the model
 * (θ*<sub>m</sub>), the baseline (θ*<sub>b</sub>) and their difference Δ* = θ*<sub>m</sub> −
 * θ*<sub>b</sub> on the <em>same</em> rows (a paired design: sample difficulty cancels out of Δ).
 * The 100(1 − α) % percentile interval is [q<sub>α/2</sub>, q<sub>1−α/2</sub>] of the B replicate
 * values, with quantiles interpolated linearly between order statistics (Hyndman &amp; Fan type 7).
 * Source: B. Efron and R. Tibshirani, <i>An Introduction to the Bootstrap</i>, 1993, ch. 13.3.
 * Replicates on which a metric is undefined (NaN) are left out of that metric's interval.
 *
 * <p>Deterministic: the random stream comes from {@code seed} alone, so the same data gives the
 * same intervals on every machine. Row indices come from 32 random bits by multiply-shift (D.
 * Lemire, "Fast Random Integer Generation in an Interval", ACM TOMACS 29(1), 2019) without the
 * rejection step; the bias that leaves is below n/2<sup>32</sup>.
 *
 * <p><b>Poisson resampling</b> ({@link Resampling#POISSON}; Hanley and MacGibbon, "Creating
 * non-parametric bootstrap samples using Poisson frequencies", Computer Methods and Programs in
 * Biomedicine 83(1), 2006; Chamandy et al., "Estimating uncertainty for massive data streams",
 * Google, 2012): replicate r gives row i the weight w<sub>i,r</sub> ~ Poisson(1), drawn by
 * inverting the Poisson(1) distribution function at a uniform number taken from a hash of (seed,
 * the row's {@link SampleTable#key key}, r). A row's weight depends on nothing but its key, so any
 * split of the rows over machines, merged in any order, gives the same replicates; rows are read in
 * key order. The replicate's size Σ w<sub>i,r</sub> varies around n (it is not exactly n as in the
 * multinomial scheme); for n in the hundreds and up the intervals agree with the multinomial ones
 * within the bootstrap's own sampling error, but they are not the same numbers.
 *
 * @param resamples B; 1,000 is the usual choice for 95 % percentile intervals; 0 turns intervals
 *     off (point estimates only)
 * @param confidence 1 − α, e.g. 0.95
 * @param resampling how a replicate draws its rows
 */
public record Bootstrap(int resamples, double confidence, long seed, Resampling resampling)
    implements java.io.Serializable {
  /** How a replicate draws its rows. */
  public enum Resampling {
    /** n rows uniformly with replacement from one seeded stream (the rows' order matters). */
    MULTINOMIAL,
    /** Poisson(1) weights per row from a hash of (seed, row key, replicate): partition-stable. */
    POISSON
  }

  /** Multinomial resampling, the single-machine default. */
  public Bootstrap(int resamples, double confidence, long seed) {
    this(resamples, confidence, seed, Resampling.MULTINOMIAL);
  }

  public Bootstrap {
    if (resampling == null) {
      throw new IllegalArgumentException("resampling must be given");
    }
    if (resamples < 0) {
      throw new IllegalArgumentException("resamples must be >= 0");
    }
    if (!(confidence > 0 && confidence < 1)) {
      throw new IllegalArgumentException("confidence must be in (0, 1)");
    }
  }

  /** 1,000 resamples, 95 % intervals, seed 42. */
  public static Bootstrap defaults() {
    return new Bootstrap(1000, 0.95, 42);
  }

  /** The same settings with the given resampling scheme. */
  public Bootstrap with(Resampling scheme) {
    return new Bootstrap(resamples, confidence, seed, scheme);
  }

  /**
   * Whether rows are resampled by key ({@link Resampling#POISSON}), so must be read in key order.
   */
  public boolean keyed() {
    return resampling == Resampling.POISSON;
  }

  /** Point estimates and intervals for every metric of the table. */
  public List<MetricEstimate> estimate(SampleTable table) {
    List<MetricSpec> specs = table.metrics();
    int k = specs.size();
    int n = table.size();
    double[] m = new double[k];
    double[] b = new double[k];
    int[] weights = new int[n];
    Arrays.fill(weights, 1);
    table.evaluate(weights, m, b);
    double[] pointModel = m.clone();
    double[] pointBase = b.clone();
    int reps = n == 0 ? 0 : resamples;
    double[][] model = new double[k][reps];
    double[][] base = new double[k][reps];
    SplittableRandom random = new SplittableRandom(seed);
    long[] keys = null;
    if (keyed()) {
      keys = new long[n];
      for (int i = 0; i < n; i++) {
        keys[i] = rowHash(table.key(i));
      }
    }
    for (int r = 0; r < reps; r++) {
      if (keys != null) {
        for (int i = 0; i < n; i++) {
          weights[i] = poisson(keys[i], r);
        }
      } else {
        Arrays.fill(weights, 0);
        for (int i = 0; i < n; i++) {
          // Multiply-shift maps 32 random bits onto [0, n) (Lemire 2019); its bias, below n / 2^32,
          // is far under the bootstrap's own sampling error.
          weights[(int) (((random.nextLong() >>> 32) * n) >>> 32)]++;
        }
      }
      table.evaluate(weights, m, b);
      for (int j = 0; j < k; j++) {
        model[j][r] = m[j];
        base[j][r] = b[j];
      }
    }
    return estimates(specs, pointModel, pointBase, model, base);
  }

  /**
   * The hash of a row's key that seeds its Poisson weights ({@link Resampling#POISSON}); see {@link
   * #poissonWeight}.
   */
  public long rowHash(long key) {
    return mix(seed ^ mix(key));
  }

  /**
   * The Poisson weight of the row with this {@link #rowHash} in replicate {@code replicate}. A
   * metric that sums its rows' weighted values per replicate as the rows arrive keeps a fixed state
   * however many rows there are.
   */
  public int poissonWeight(long rowHash, int replicate) {
    return poisson(rowHash, replicate);
  }

  /**
   * Point estimates and percentile intervals from the metrics' values on the data as it is and on
   * every replicate ({@code model[j][r]}, {@code baseline[j][r]} for metric j and replicate r; the
   * baseline's values are ignored for metrics that compare with the baseline).
   */
  public List<MetricEstimate> estimates(
      List<MetricSpec> specs,
      double[] pointModel,
      double[] pointBase,
      double[][] model,
      double[][] base) {
    int k = specs.size();
    double alpha = 1 - confidence;
    List<MetricEstimate> out = new ArrayList<>(k);
    for (int j = 0; j < k; j++) {
      MetricSpec s = specs.get(j);
      double[] ci = interval(model[j], alpha);
      if (s.vsBaseline()) {
        out.add(
            new MetricEstimate(
                s.name(),
                s.higherIsBetter(),
                true,
                MetricEstimate.finite(pointModel[j]),
                MetricEstimate.finite(ci[0]),
                MetricEstimate.finite(ci[1]),
                null,
                null,
                null,
                null,
                null,
                null));
      } else {
        double[] bci = interval(base[j], alpha);
        double[] delta = new double[model[j].length];
        for (int r = 0; r < delta.length; r++) {
          delta[r] = model[j][r] - base[j][r];
        }
        double[] dci = interval(delta, alpha);
        out.add(
            new MetricEstimate(
                s.name(),
                s.higherIsBetter(),
                false,
                MetricEstimate.finite(pointModel[j]),
                MetricEstimate.finite(ci[0]),
                MetricEstimate.finite(ci[1]),
                MetricEstimate.finite(pointBase[j]),
                MetricEstimate.finite(bci[0]),
                MetricEstimate.finite(bci[1]),
                MetricEstimate.finite(pointModel[j] - pointBase[j]),
                MetricEstimate.finite(dci[0]),
                MetricEstimate.finite(dci[1])));
      }
    }
    return out;
  }

  /** e<sup>−1</sup>, the Poisson(1) probability of 0. */
  private static final double P0 = Math.exp(-1);

  /** F(k) of Poisson(1) for k = 0..30, summed term by term in order. */
  private static final double[] CDF = new double[31];

  static {
    double p = P0;
    double cdf = p;
    CDF[0] = cdf;
    for (int k = 1; k < CDF.length; k++) {
      p /= k;
      cdf += p;
      CDF[k] = cdf;
    }
  }

  /**
   * A Poisson(1) draw for replicate {@code r} of the row whose mixed key is {@code rowHash}: the
   * smallest k with F(k) &gt; u (at most 30), u uniform in [0, 1) from 53 bits of a hash of both.
   * The same on every machine (Java's double arithmetic is IEEE 754 throughout).
   */
  static int poisson(long rowHash, int r) {
    double u = (mix(rowHash + (r + 1) * 0x9E3779B97F4A7C15L) >>> 11) * 0x1.0p-53;
    int k = 0;
    while (k < 30 && u >= CDF[k]) {
      k++;
    }
    return k;
  }

  /** SplitMix64's finalizer (Steele, Lea and Flood, OOPSLA 2014): a bijective 64-bit mix. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** The percentile interval of the finite values, or NaNs when there are none. */
  static double[] interval(double[] values, double alpha) {
    double[] v = Arrays.stream(values).filter(Double::isFinite).sorted().toArray();
    if (v.length == 0) {
      return new double[] {Double.NaN, Double.NaN};
    }
    return new double[] {quantile(v, alpha / 2), quantile(v, 1 - alpha / 2)};
  }

  /** Type-7 quantile of sorted values: h = (n − 1)p, interpolated between ⌊h⌋ and ⌈h⌉. */
  static double quantile(double[] sorted, double p) {
    double h = (sorted.length - 1) * p;
    int lo = (int) Math.floor(h);
    int hi = Math.min(sorted.length - 1, lo + 1);
    return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
  }
}

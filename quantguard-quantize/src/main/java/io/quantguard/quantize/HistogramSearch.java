package io.quantguard.quantize;

/** The searches over histograms that the calibrators share. */
final class HistogramSearch {
  /** Evaluating more thresholds than this gains nothing measurable and costs time. */
  private static final int MAX_CANDIDATES = 512;

  private HistogramSearch() {}

  /**
   * The histogram of one side of zero as magnitudes: bin {@code j} counts values in [j·w, (j+1)·w)
   * for the positive side, in (−(j+1)·w, −j·w] for the negative side.
   */
  static long[] side(Histogram h, boolean positive) {
    long maxBin = -1;
    for (int i = 0; i < h.bins(); i++) {
      if (h.count(i) != 0) {
        long k = Math.round(h.edge(i) / h.width());
        long j = positive ? k : -k - 1;
        if (j >= 0) {
          maxBin = Math.max(maxBin, j);
        }
      }
    }
    long[] out = new long[(int) maxBin + 1];
    for (int i = 0; i < h.bins(); i++) {
      if (h.count(i) != 0) {
        long k = Math.round(h.edge(i) / h.width());
        long j = positive ? k : -k - 1;
        if (j >= 0) {
          out[(int) j] += h.count(i);
        }
      }
    }
    return out;
  }

  /** Index of the first bin at which the cumulative fraction reaches {@code q}. */
  static int quantileBin(long[] counts, double q) {
    long total = 0;
    for (long c : counts) {
      total += c;
    }
    double target = q * total;
    long cum = 0;
    for (int i = 0; i < counts.length; i++) {
      cum += counts[i];
      if (cum >= target) {
        return i;
      }
    }
    return counts.length - 1;
  }

  /**
   * The signed value at quantile {@code q}: the upper edge of its bin if {@code upper}, else the
   * lower.
   */
  static double quantileEdge(Histogram h, double q, boolean upper) {
    long[] c = new long[h.bins()];
    for (int i = 0; i < c.length; i++) {
      c[i] = h.count(i);
    }
    int bin = quantileBin(c, q);
    return upper ? h.edge(bin + 1) : h.edge(bin);
  }

  /**
   * The number of |x| bins to keep (threshold = bins · width) minimizing KL(P ‖ Q), where P is the
   * histogram clipped at the threshold (outliers folded into its last bin) and Q is the same bins
   * merged into {@code levels} quantization levels and expanded back over P's non-empty bins.
   */
  static int klThresholdBins(long[] abs, int levels) {
    int n = abs.length;
    if (n <= levels) {
      return n;
    }
    long[] suffix = new long[n + 1];
    for (int i = n - 1; i >= 0; i--) {
      suffix[i] = suffix[i + 1] + abs[i];
    }
    int stride = Math.max(1, (n - levels) / MAX_CANDIDATES);
    int best = n;
    double bestKl = Double.POSITIVE_INFINITY;
    double[] p = new double[n];
    double[] q = new double[n];
    for (int i = levels; i <= n; i += stride) {
      double kl = klDivergence(abs, suffix, i, levels, p, q);
      if (kl < bestKl) {
        bestKl = kl;
        best = i;
      }
    }
    return best;
  }

  /**
   * KL(P ‖ Q) for the first {@code i} bins. Bin 0 (|x| below one bin width, which holds the exact
   * zeros of ReLU outputs and padding) is left out: zero is always representable exactly whatever
   * the threshold, and a spike there would otherwise dominate the divergence and drive the
   * threshold down to its minimum (the "skip zeros" variant of NVIDIA's pytorch-quantization
   * calibrator).
   */
  private static double klDivergence(
      long[] abs, long[] suffix, int i, int levels, double[] p, double[] q) {
    int first = 1;
    int span = i - first;
    for (int j = first; j < i; j++) {
      p[j] = abs[j];
      q[j] = 0;
    }
    p[i - 1] += suffix[i];
    int groups = Math.min(levels, span);
    for (int g = 0; g < groups; g++) {
      int start = first + (int) ((long) g * span / groups);
      int end = first + (int) ((long) (g + 1) * span / groups);
      double sum = 0;
      int nonZero = 0;
      for (int j = start; j < end; j++) {
        sum += abs[j];
        if (p[j] != 0) {
          nonZero++;
        }
      }
      if (nonZero > 0) {
        double share = sum / nonZero;
        for (int j = start; j < end; j++) {
          if (p[j] != 0) {
            q[j] = share;
          }
        }
      }
    }
    double pSum = 0;
    double qSum = 0;
    for (int j = first; j < i; j++) {
      pSum += p[j];
      qSum += q[j];
    }
    if (pSum == 0) {
      return Double.POSITIVE_INFINITY;
    }
    // Q can be empty where P is not (all mass of a group sat in the folded outliers): smooth it.
    final double eps = 1e-4;
    double kl = 0;
    for (int j = first; j < i; j++) {
      if (p[j] == 0) {
        continue;
      }
      double pj = p[j] / pSum;
      double qj = qSum > 0 ? q[j] / qSum : 0;
      if (qj <= 0) {
        qj = eps / span;
      }
      kl += pj * Math.log(pj / qj);
    }
    return kl;
  }

  /** The candidate range with the least expected squared error (see {@link Calibrator.Mse}). */
  static Range minimumMse(TensorStatistics stats, Scheme scheme) {
    Histogram h = stats.histogram();
    double w = h.width();
    if (scheme.symmetric()) {
      long[] abs = h.absoluteCounts();
      int n = abs.length;
      double[] cnt = new double[n + 1];
      double[] s1 = new double[n + 1];
      double[] s2 = new double[n + 1];
      for (int j = n - 1; j >= 0; j--) {
        double c = (j + 0.5) * w;
        cnt[j] = cnt[j + 1] + abs[j];
        s1[j] = s1[j + 1] + abs[j] * c;
        s2[j] = s2[j + 1] + abs[j] * c * c;
      }
      double absMax = stats.range().absMax();
      double bestT = absMax;
      double bestErr = Double.POSITIVE_INFINITY;
      int stride = Math.max(1, n / MAX_CANDIDATES);
      for (int k = 1; k <= n; k += stride) {
        double t = Math.min(k * w, absMax);
        double step = 2 * t / scheme.levels();
        // Bins wholly below t are inside; bins from k on are clipped to t.
        double err =
            (cnt[0] - cnt[k]) * step * step / 12 + (s2[k] - 2 * t * s1[k] + t * t * cnt[k]);
        if (err < bestErr) {
          bestErr = err;
          bestT = t;
        }
      }
      return new Range(-bestT, bestT);
    }
    int n = h.bins();
    double[] cnt = new double[n + 1];
    double[] s1 = new double[n + 1];
    double[] s2 = new double[n + 1];
    for (int j = 0; j < n; j++) {
      double c = h.edge(j) + 0.5 * w;
      long m = h.count(j);
      cnt[j + 1] = cnt[j] + m;
      s1[j + 1] = s1[j] + m * c;
      s2[j + 1] = s2[j] + m * c * c;
    }
    Range full = stats.range().withZero();
    double bestLo = full.min();
    double bestHi = full.max();
    double bestErr = Double.POSITIVE_INFINITY;
    for (int a = 20; a <= 100; a++) {
      double lo = full.min() * a / 100;
      int li = clampBin(h, lo);
      for (int b = 20; b <= 100; b++) {
        double hi = full.max() * b / 100;
        if (hi - lo <= 0) {
          continue;
        }
        int hiBin = clampBin(h, hi) + 1;
        double step = (hi - lo) / scheme.levels();
        double below = (s2[li] - 2 * lo * s1[li] + lo * lo * cnt[li]);
        double above =
            (s2[n] - s2[hiBin]) - 2 * hi * (s1[n] - s1[hiBin]) + hi * hi * (cnt[n] - cnt[hiBin]);
        double inside = (cnt[hiBin] - cnt[li]) * step * step / 12;
        double err = below + inside + above;
        if (err < bestErr) {
          bestErr = err;
          bestLo = lo;
          bestHi = hi;
        }
      }
    }
    return new Range(bestLo, bestHi);
  }

  private static int clampBin(Histogram h, double v) {
    long k = (long) Math.floor((v - h.edge(0)) / h.width());
    return (int) Math.max(0, Math.min(h.bins() - 1, k));
  }
}

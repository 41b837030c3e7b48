package io.quantguard.evaluate.bench;

import java.util.Arrays;

/**
 * The median of per-round ratios with a distribution-free confidence interval for it.
 *
 * <p>On a small, noisy machine the speed of the CPU drifts (frequency, other tenants, page cache),
 * so comparing two models' overall means mixes the drift into the answer. The benchmark instead
 * runs the models in rounds, one trial of each per round, and takes the ratio within each round,
 * where both saw the same conditions; this record summarizes those ratios.
 *
 * <p>Interval: with the {@code n} ratios sorted, {@code x(1) <= ... <= x(n)}, the interval {@code
 * [x(k), x(n-k+1)]} contains the true median with probability {@code 1 - 2 P(B <= k-1)}, where
 * {@code B ~ Binomial(n, 1/2)} (the order-statistic interval for a median; Hollander, Wolfe &amp;
 * Chicken, <i>Nonparametric Statistical Methods</i>, §3.6). It assumes only that rounds are
 * independent. The largest {@code k} whose coverage reaches the requested level is used; with too
 * few rounds for that (fewer than 6 for 95 %) the interval is {@code [min, max]} and {@link
 * #confidence} says the lower coverage it really has.
 *
 * @param median the sample median (mean of the two middle values when {@code n} is even)
 * @param low lower end of the interval
 * @param high upper end of the interval
 * @param confidence the interval's actual coverage, {@code 1 - 2 P(B <= k-1)}
 * @param rounds {@code n}, the number of ratios
 */
public record RatioInterval(double median, double low, double high, double confidence, int rounds) {

  /** The median of {@code values} and its order-statistic interval at {@code level} (e.g. 0.95). */
  public static RatioInterval ofMedian(double[] values, double level) {
    if (values.length == 0) {
      throw new IllegalArgumentException("no values");
    }
    if (!(level > 0 && level < 1)) {
      throw new IllegalArgumentException("confidence level " + level + " is not in (0, 1)");
    }
    double[] x = values.clone();
    Arrays.sort(x);
    int n = x.length;
    double median = sortedMedian(x);
    int k = 1;
    while (k + 1 <= (n + 1) / 2 && coverage(n, k + 1) >= level) {
      k++;
    }
    return new RatioInterval(median, x[k - 1], x[n - k], coverage(n, k), n);
  }

  /** The median of {@code values} (mean of the two middle values when their number is even). */
  static double median(double[] values) {
    double[] x = values.clone();
    Arrays.sort(x);
    return sortedMedian(x);
  }

  private static double sortedMedian(double[] x) {
    int n = x.length;
    return n % 2 == 1 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
  }

  /** Whether {@code value} lies in the interval (ends included). */
  public boolean contains(double value) {
    return low <= value && value <= high;
  }

  /** {@code 1 - 2 P(B <= k-1)} for {@code B ~ Binomial(n, 1/2)}, clamped at 0. */
  static double coverage(int n, int k) {
    double tail = 0;
    for (int i = 0; i < k; i++) {
      tail += Math.exp(logChoose(n, i) - n * Math.log(2));
    }
    return Math.max(0, 1 - 2 * tail);
  }

  private static double logChoose(int n, int k) {
    double s = 0;
    for (int i = 1; i <= k; i++) {
      s += Math.log(n - k + i) - Math.log(i);
    }
    return s;
  }
}

package io.quantguard.evaluate.bench;

import org.HdrHistogram.Histogram;

/**
 * Latencies of individual inference calls, in nanoseconds: an HdrHistogram (three significant
 * digits, so every percentile is within 0.1 % of the true order statistic, whatever the range) plus
 * the exact count, sum, minimum and maximum. Like every QuantGuard metric it is a mergeable
 * accumulator: {@link #add} one value, {@link #merge} another histogram.
 *
 * <p>The percentile {@code p} is HdrHistogram's: the smallest recorded value {@code v} such that at
 * least {@code p} % of the values are {@code <= v} (reported as the highest value equivalent to it
 * at the histogram's precision).
 */
public final class LatencyHistogram {
  private static final int SIGNIFICANT_DIGITS = 3;

  private final Histogram histogram = new Histogram(SIGNIFICANT_DIGITS);
  private long count;
  private long sumNanos;
  private long minNanos = Long.MAX_VALUE;
  private long maxNanos;

  /** Records one latency. */
  public void add(long nanos) {
    if (nanos < 0) {
      throw new IllegalArgumentException("negative latency " + nanos);
    }
    histogram.recordValue(nanos);
    count++;
    sumNanos += nanos;
    minNanos = Math.min(minNanos, nanos);
    maxNanos = Math.max(maxNanos, nanos);
  }

  /** Adds everything {@code other} recorded (the result is as if both had recorded here). */
  public void merge(LatencyHistogram other) {
    histogram.add(other.histogram);
    count += other.count;
    sumNanos += other.sumNanos;
    minNanos = Math.min(minNanos, other.minNanos);
    maxNanos = Math.max(maxNanos, other.maxNanos);
  }

  public long count() {
    return count;
  }

  public long sumNanos() {
    return sumNanos;
  }

  /** The exact mean, {@code sum / count}. */
  public double meanNanos() {
    return count == 0 ? Double.NaN : (double) sumNanos / count;
  }

  /** The value at percentile {@code p} (0–100), within 0.1 %. */
  public long percentileNanos(double p) {
    if (p < 0 || p > 100) {
      throw new IllegalArgumentException("percentile " + p + " is not in [0, 100]");
    }
    return count == 0 ? 0 : histogram.getValueAtPercentile(p);
  }

  /** The figures reports show, in milliseconds. */
  public LatencyStats stats() {
    if (count == 0) {
      return new LatencyStats(
          0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }
    return new LatencyStats(
        count,
        meanNanos() / 1e6,
        percentileNanos(50) / 1e6,
        percentileNanos(95) / 1e6,
        percentileNanos(99) / 1e6,
        minNanos / 1e6,
        maxNanos / 1e6);
  }
}

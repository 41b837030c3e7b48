package io.quantguard.report;

import org.jspecify.annotations.Nullable;

/**
 * A headline metric of one model on one slice, with its bootstrap confidence interval, and (for
 * metrics that are not themselves a comparison) the baseline's value and interval on the same
 * resamples and the paired difference {@code model − baseline} with its own interval. Values that
 * do not exist (no baseline for a flip rate, an infinite SQNR of the baseline against itself) are
 * null, never NaN or infinity, so the JSON stays valid.
 */
public record MetricEstimate(
    String name,
    boolean higherIsBetter,
    boolean vsBaseline,
    @Nullable Double value,
    @Nullable Double low,
    @Nullable Double high,
    @Nullable Double baseline,
    @Nullable Double baselineLow,
    @Nullable Double baselineHigh,
    @Nullable Double delta,
    @Nullable Double deltaLow,
    @Nullable Double deltaHigh) {

  /** Whether the difference to the baseline is significant at the interval's level. */
  public boolean deltaSignificant() {
    return deltaLow != null && deltaHigh != null && (deltaLow > 0 || deltaHigh < 0);
  }

  /** Whether the model is worse than the baseline beyond the interval. */
  public boolean significantlyWorse() {
    Double lo = deltaLow;
    Double hi = deltaHigh;
    return lo != null && hi != null && (lo > 0 || hi < 0) && (higherIsBetter ? hi < 0 : lo > 0);
  }

  /** A computed value as the report holds it: null for NaN and infinities (JSON has neither). */
  public static @Nullable Double finite(double v) {
    return Double.isFinite(v) ? v : null;
  }
}

package io.quantguard.report;

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
    Double value,
    Double low,
    Double high,
    Double baseline,
    Double baselineLow,
    Double baselineHigh,
    Double delta,
    Double deltaLow,
    Double deltaHigh) {

  /** Whether the difference to the baseline is significant at the interval's level. */
  public boolean deltaSignificant() {
    return deltaLow != null && deltaHigh != null && (deltaLow > 0 || deltaHigh < 0);
  }

  /** Whether the model is worse than the baseline beyond the interval. */
  public boolean significantlyWorse() {
    return deltaSignificant() && (higherIsBetter ? deltaHigh < 0 : deltaLow > 0);
  }

  /** A computed value as the report holds it: null for NaN and infinities (JSON has neither). */
  public static Double finite(double v) {
    return Double.isFinite(v) ? v : null;
  }
}

package io.quantguard.report;

/**
 * One line of a {@link Policy}: a {@link Limit} on one metric the measurements carry, judged on all
 * data or on every slice.
 *
 * @param metric a metric, figure or cost name as a report spells it ({@code accuracy}, {@code
 *     cosine_min}, {@code latency_p95}, {@code size})
 * @param perSlice judge every slice (the {@code all} slice included), not only all data
 * @param use the point estimate (default) or the end of the bootstrap interval that is worst for
 *     the candidate, for a gate that wants the limit to hold with the report's confidence
 * @param minSamples with {@code perSlice}, slices with fewer samples are reported as skipped rather
 *     than judged on noise (default 30, the size the report's worst slice needs)
 */
public record Rule(String metric, Limit limit, boolean perSlice, Use use, int minSamples) {
  /** Slices smaller than this are not judged unless a rule says otherwise. */
  public static final int DEFAULT_MIN_SAMPLES = 30;

  /** Which number of the report a rule compares with its limit. */
  public enum Use {
    /** The point estimate. */
    ESTIMATE,
    /** The end of the confidence interval that is worst for the candidate. */
    WORST_BOUND;

    /** The policy spelling: {@code estimate}, {@code worst_bound}. */
    public String key() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * Whether the rule limits a cost (size, latency, throughput, energy, memory) rather than what the
   * model computes: tuning trades one against the other, since higher precision helps the second
   * and hurts the first.
   */
  public boolean limitsCost() {
    return ReportMeasurements.isCost(metric);
  }

  /** {@code accuracy max_drop 0.5%}, {@code macro_f1 max_drop_relative 1% per slice}. */
  public String describe() {
    return metric
        + " "
        + limit.key()
        + " "
        + limit.text()
        + (perSlice ? " per slice" : "")
        + (use == Use.WORST_BOUND ? " (worst bound)" : "");
  }
}

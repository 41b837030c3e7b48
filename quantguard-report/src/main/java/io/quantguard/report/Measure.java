package io.quantguard.report;

import org.jspecify.annotations.Nullable;

/**
 * One metric of one candidate on one slice, in the shape every limit can read: the candidate's
 * value and interval, the baseline's value, and the difference with its interval. Cost and figures
 * have no intervals; metrics that compare with the baseline themselves (flip rate, cosine to the
 * baseline) have no baseline value. Null marks a number that was not measured.
 *
 * @param higherIsBetter the direction, or null where it is not known (some figures): then only min,
 *     max and ratios can be judged
 * @param vsBaseline true when the metric itself compares the candidate with the baseline
 * @param low the lower end of the candidate's confidence interval, or null
 * @param high the upper end, or null
 * @param baseline the baseline's value, or null
 * @param delta candidate − baseline, or null
 * @param deltaLow the lower end of the difference's interval, or null
 * @param deltaHigh the upper end, or null
 */
public record Measure(
    String metric,
    Source source,
    @Nullable Boolean higherIsBetter,
    boolean vsBaseline,
    @Nullable Double value,
    @Nullable Double low,
    @Nullable Double high,
    @Nullable Double baseline,
    @Nullable Double delta,
    @Nullable Double deltaLow,
    @Nullable Double deltaHigh) {

  /** What kind of number it is, which decides the limits it can answer. */
  public enum Source {
    /** A headline metric with a confidence interval (a report's {@code slices[].metrics[]}). */
    METRIC,
    /** A number without interval (a report's {@code slices[].figures}). */
    FIGURE,
    /**
     * Measured per model, not per slice (a report's {@code sizeBytes} and {@code cost}): it has no
     * per-slice value and no interval.
     */
    COST
  }

  /**
   * The quantity {@code limit} bounds, or null where no number was measured for it.
   *
   * @throws IllegalArgumentException where this measure cannot be judged that way (the reason is
   *     the message)
   */
  @Nullable Double quantity(Limit limit, Rule.Use use) {
    if (use == Rule.Use.WORST_BOUND && source != Source.METRIC) {
      throw new IllegalArgumentException(
          "'use: worst_bound' needs a confidence interval, and "
              + metric
              + " has none ("
              + (source == Source.COST ? "cost is" : "figures are")
              + " measured once); use the estimate");
    }
    if (limit.needsBaseline() && vsBaseline) {
      throw new IllegalArgumentException(
          metric
              + " already compares the candidate with the baseline and has no baseline value of its"
              + " own; limit it with min or max");
    }
    return switch (limit.kind()) {
      case MIN -> use == Rule.Use.WORST_BOUND ? low : value;
      case MAX -> use == Rule.Use.WORST_BOUND ? high : value;
      case MAX_DROP -> drop(use);
      case MAX_DROP_RELATIVE -> relativeDrop(use);
      case MIN_RATIO -> ratio(use == Rule.Use.WORST_BOUND ? low : value);
      case MAX_RATIO -> ratio(use == Rule.Use.WORST_BOUND ? high : value);
    };
  }

  /** The drop as a fraction of |baseline| (±∞ for a drop from a baseline of 0). */
  private @Nullable Double relativeDrop(Rule.Use use) {
    Double drop = drop(use);
    if (drop == null || baseline == null) {
      return null;
    }
    if (drop == 0) {
      return 0.0;
    }
    return baseline == 0 ? Double.POSITIVE_INFINITY * Math.signum(drop) : drop / Math.abs(baseline);
  }

  /** How much worse than the baseline: −Δ for metrics where higher is better, +Δ otherwise. */
  private @Nullable Double drop(Rule.Use use) {
    if (higherIsBetter == null) {
      throw new IllegalArgumentException(
          "it is not known whether a higher "
              + metric
              + " is better, so a drop is undefined; limit it with min, max or a ratio");
    }
    Double d;
    if (use == Rule.Use.WORST_BOUND) {
      d = higherIsBetter ? deltaLow : deltaHigh;
    } else {
      d = delta;
    }
    if (d == null) {
      return null;
    }
    return (higherIsBetter ? -d : d) + 0.0; // + 0.0 turns −0 into 0
  }

  /** candidate / baseline; 1 when both are 0, +∞ when only the baseline is. */
  private @Nullable Double ratio(@Nullable Double candidate) {
    if (candidate == null || baseline == null) {
      return null;
    }
    if (baseline == 0) {
      return candidate == 0 ? 1.0 : Double.POSITIVE_INFINITY;
    }
    return candidate / baseline;
  }
}

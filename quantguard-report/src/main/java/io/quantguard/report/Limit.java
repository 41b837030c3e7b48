package io.quantguard.report;

import org.jspecify.annotations.Nullable;

/**
 * The bound one {@link Rule} puts on a metric: on its value ({@code min}, {@code max}), on how much
 * worse than the baseline it is ({@code max_drop}, absolute; {@code max_drop_relative}, as a
 * fraction of the baseline) or on its ratio to the baseline ({@code min_ratio}, {@code max_ratio};
 * candidate / baseline). "Worse" follows the metric's direction: a drop of accuracy, a rise of ECE
 * or latency.
 *
 * <p>Each limit bounds one quantity computed from the report, either from the point estimates or
 * from the end of the bootstrap interval that is worst for the candidate ({@link
 * Rule.Use#WORST_BOUND}). The margin is signed so that it is ≥ 0 exactly when the limit holds: how
 * much room is left, or (negative) by how much the limit is exceeded.
 *
 * @param kind which bound: min, max, max_drop, max_drop_relative, min_ratio, max_ratio
 * @param threshold the bound as a number (percent strings divided by 100)
 * @param text the bound as the policy wrote it ({@code 1%}, {@code 0.005}), for messages
 */
public record Limit(Kind kind, double threshold, String text) {

  /** The six kinds of bound a policy can write, by their policy key. */
  public enum Kind {
    /** The value must be at least the threshold. */
    MIN("min", "value", false, false),
    /** The value must be at most the threshold. */
    MAX("max", "value", true, false),
    /** How much worse than the baseline, in the metric's unit: at most the threshold. */
    MAX_DROP("max_drop", "drop", true, true),
    /** How much worse than the baseline, as a fraction of |baseline|: at most the threshold. */
    MAX_DROP_RELATIVE("max_drop_relative", "relative drop", true, true),
    /** candidate / baseline: at least the threshold (throughput, say). */
    MIN_RATIO("min_ratio", "ratio", false, true),
    /** candidate / baseline: at most the threshold (latency, size). */
    MAX_RATIO("max_ratio", "ratio", true, true);

    private final String key;
    private final String quantityName;
    private final boolean upper;
    private final boolean needsBaseline;

    Kind(String key, String quantityName, boolean upper, boolean needsBaseline) {
      this.key = key;
      this.quantityName = quantityName;
      this.upper = upper;
      this.needsBaseline = needsBaseline;
    }

    /** The policy key ({@code max_drop}, ...). */
    public String key() {
      return key;
    }

    /** The kind a policy key names, or null. */
    static @Nullable Kind ofKey(String key) {
      for (Kind k : values()) {
        if (k.key.equals(key)) {
          return k;
        }
      }
      return null;
    }
  }

  /** The policy key ({@code max_drop}, ...). */
  public String key() {
    return kind.key;
  }

  /** True for upper bounds (the quantity must not exceed the threshold). */
  public boolean upper() {
    return kind.upper;
  }

  /**
   * What the bounded quantity is: {@code value}, {@code drop}, {@code relative drop}, {@code
   * ratio}.
   */
  public String quantityName() {
    return kind.quantityName;
  }

  /** True when the quantity is computed from the baseline's value (drops and ratios). */
  public boolean needsBaseline() {
    return kind.needsBaseline;
  }

  /** threshold − quantity for upper bounds, quantity − threshold for lower ones. */
  public double margin(double quantity) {
    return upper() ? threshold - quantity : quantity - threshold;
  }
}

package io.quantguard.evaluate;

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
 */
public sealed interface Limit
    permits Limit.Min,
        Limit.Max,
        Limit.MaxDrop,
        Limit.MaxDropRelative,
        Limit.MinRatio,
        Limit.MaxRatio {

  /** The policy key ({@code max_drop}, ...). */
  String key();

  /** The bound as a number (percent strings divided by 100). */
  double threshold();

  /** The bound as the policy wrote it ({@code 1%}, {@code 0.005}), for messages. */
  String text();

  /** True for upper bounds (the quantity must not exceed the threshold). */
  boolean upper();

  /**
   * What the bounded quantity is: {@code value}, {@code drop}, {@code relative drop}, {@code
   * ratio}.
   */
  String quantityName();

  /** True when the quantity is computed from the baseline's value (drops and ratios). */
  default boolean needsBaseline() {
    return true;
  }

  /** threshold − quantity for upper bounds, quantity − threshold for lower ones. */
  default double margin(double quantity) {
    return upper() ? threshold() - quantity : quantity - threshold();
  }

  /** The value must be at least the threshold. */
  record Min(double threshold, String text) implements Limit {
    @Override
    public String quantityName() {
      return "value";
    }

    @Override
    public String key() {
      return "min";
    }

    @Override
    public boolean upper() {
      return false;
    }

    @Override
    public boolean needsBaseline() {
      return false;
    }
  }

  /** The value must be at most the threshold. */
  record Max(double threshold, String text) implements Limit {
    @Override
    public String quantityName() {
      return "value";
    }

    @Override
    public String key() {
      return "max";
    }

    @Override
    public boolean upper() {
      return true;
    }

    @Override
    public boolean needsBaseline() {
      return false;
    }
  }

  /** How much worse than the baseline, in the metric's unit: at most the threshold. */
  record MaxDrop(double threshold, String text) implements Limit {
    @Override
    public String quantityName() {
      return "drop";
    }

    @Override
    public String key() {
      return "max_drop";
    }

    @Override
    public boolean upper() {
      return true;
    }
  }

  /** How much worse than the baseline, as a fraction of |baseline|: at most the threshold. */
  record MaxDropRelative(double threshold, String text) implements Limit {
    @Override
    public String quantityName() {
      return "relative drop";
    }

    @Override
    public String key() {
      return "max_drop_relative";
    }

    @Override
    public boolean upper() {
      return true;
    }
  }

  /** candidate / baseline: at least the threshold (throughput, say). */
  record MinRatio(double threshold, String text) implements Limit {
    @Override
    public String quantityName() {
      return "ratio";
    }

    @Override
    public String key() {
      return "min_ratio";
    }

    @Override
    public boolean upper() {
      return false;
    }
  }

  /** candidate / baseline: at most the threshold (latency, size). */
  record MaxRatio(double threshold, String text) implements Limit {
    @Override
    public String quantityName() {
      return "ratio";
    }

    @Override
    public String key() {
      return "max_ratio";
    }

    @Override
    public boolean upper() {
      return true;
    }
  }
}

package io.quantguard.report;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * One rule judged for one candidate on one slice: what was measured, against which limit, and how
 * much room is left.
 *
 * @param slice {@code all} or the slice's name ({@code label=Shirt}); cost rules are on {@code all}
 * @param value the candidate's metric value on the slice (null where the report has none)
 * @param baseline the baseline's value (null for metrics that compare with the baseline themselves)
 * @param measured the quantity the limit bounds: the value, the drop, the relative drop or the
 *     ratio to the baseline, from the estimate or the worst bound as the rule says; null when
 *     skipped or when the report has no number
 * @param margin ≥ 0 exactly when the limit holds: room left, or (negative) by how much it is
 *     exceeded
 * @param note why a check was skipped or failed without a number; otherwise empty
 */
public record RuleVerdict(
    String candidate,
    Rule rule,
    String slice,
    long samples,
    Outcome outcome,
    @Nullable Double value,
    @Nullable Double baseline,
    @Nullable Double measured,
    @Nullable Double margin,
    String note) {

  /** The result of one check. */
  public enum Outcome {
    PASS,
    FAIL,
    /** Not judged: a slice below the rule's minimum size, or a slice without the metric. */
    SKIPPED;

    public String key() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public boolean failed() {
    return outcome == Outcome.FAIL;
  }

  /** The rule and the slice, as a test case name: {@code accuracy max_drop 0.5% [all]}. */
  public String name() {
    return rule.describe() + " [" + slice + "]";
  }

  /** The measured quantity in its unit: {@code 0.0432}, {@code 1.23 %}, {@code ×0.93}. */
  public String measuredText() {
    return quantity(measured);
  }

  /** The limit with its direction: {@code ≤ 0.5%}, {@code ≥ 0.99}. */
  public String limitText() {
    return (rule.limit().upper() ? "≤ " : "≥ ") + rule.limit().text();
  }

  /** The margin in the measured quantity's unit, signed. */
  public String marginText() {
    if (margin == null) {
      return "";
    }
    String m =
        rule.limit().kind() == Limit.Kind.MAX_DROP_RELATIVE
            ? percent(Math.abs(margin))
            : Format.num(Math.abs(margin));
    return (margin >= 0 ? "+" : "−") + m;
  }

  /** One sentence for people and CI logs. */
  public String message() {
    String what =
        rule.metric()
            + (rule.limit().quantityName().equals("value")
                ? ""
                : " " + rule.limit().quantityName());
    if (outcome == Outcome.SKIPPED || measured == null) {
      return what + " on " + slice + ": " + note;
    }
    String context =
        baseline != null && value != null && !rule.limit().quantityName().equals("value")
            ? " (" + Format.num(baseline) + " → " + Format.num(value) + ")"
            : "";
    String bound = rule.use() == Rule.Use.WORST_BOUND ? " at the worst bound" : "";
    if (outcome == Outcome.PASS) {
      return String.format(
          Locale.ROOT,
          "%s %s%s%s on %s is within %s %s (margin %s)",
          what,
          measuredText(),
          context,
          bound,
          slice,
          rule.limit().key(),
          rule.limit().text(),
          marginText());
    }
    return String.format(
        Locale.ROOT,
        "%s %s%s%s on %s %s %s %s by %s",
        what,
        measuredText(),
        context,
        bound,
        slice,
        rule.limit().upper() ? "exceeds" : "is below",
        rule.limit().key(),
        rule.limit().text(),
        marginText().substring(1));
  }

  private String quantity(@Nullable Double q) {
    if (q == null) {
      return "n/a";
    }
    if (rule.limit().kind() == Limit.Kind.MAX_DROP_RELATIVE) {
      return percent(q);
    }
    if (rule.limit().quantityName().equals("ratio")) {
      return "×" + Format.num(q);
    }
    return Format.num(q);
  }

  private static String percent(double fraction) {
    if (Double.isInfinite(fraction)) {
      return fraction > 0 ? "∞ %" : "−∞ %";
    }
    return String.format(Locale.ROOT, "%.2f %%", fraction * 100).replace("-", "−");
  }
}

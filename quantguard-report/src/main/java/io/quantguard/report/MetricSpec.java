package io.quantguard.report;

/**
 * A headline metric of a task.
 *
 * @param name stable snake_case name used in every report ({@code accuracy}, {@code macro_f1})
 * @param higherIsBetter direction, so a report can tell a gain from a loss
 * @param vsBaseline true when the metric itself compares the model with the baseline (flip rate,
 *     cosine to the baseline's embedding): it has no separate baseline value and no difference
 */
public record MetricSpec(String name, boolean higherIsBetter, boolean vsBaseline) {
  public static MetricSpec absolute(String name, boolean higherIsBetter) {
    return new MetricSpec(name, higherIsBetter, false);
  }

  public static MetricSpec againstBaseline(String name, boolean higherIsBetter) {
    return new MetricSpec(name, higherIsBetter, true);
  }
}

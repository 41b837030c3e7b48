package io.quantguard.report;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * What a task measured for one model on one slice.
 *
 * @param samples samples scored
 * @param metrics headline metrics with confidence intervals; the first is the task's primary metric
 * @param figures further numbers without intervals (cosine minimum and percentiles, max abs error,
 *     ...), by stable snake_case name
 * @param classification confusion, per-class scores, flips and McNemar (classification tasks only;
 *     otherwise null)
 */
public record TaskResult(
    long samples,
    List<MetricEstimate> metrics,
    Map<String, Double> figures,
    @Nullable ClassificationDetail classification) {

  public TaskResult {
    metrics = List.copyOf(metrics);
    figures = figures == null ? Map.of() : java.util.Collections.unmodifiableMap(figures);
  }

  public Optional<MetricEstimate> metric(String name) {
    return metrics.stream().filter(m -> m.name().equals(name)).findFirst();
  }

  /** The task's primary metric (the first headline), if there is one. */
  public Optional<MetricEstimate> primary() {
    return metrics.stream().findFirst();
  }
}

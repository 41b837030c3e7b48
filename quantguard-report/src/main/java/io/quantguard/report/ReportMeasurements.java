package io.quantguard.report;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * An evaluation report as {@link Measurements}: every number of the report a policy can name. The
 * task's headline metrics and figures per slice (names as the report spells them), and per model
 * the cost, under names of their own ({@code size}, {@code latency_p95}, ...). The figures'
 * direction is known where it is unambiguous; for the others ({@code mcnemar_p}, counts) only min,
 * max and ratios are meaningful.
 */
final class ReportMeasurements implements Measurements {
  /** Cost numbers by policy name; all but throughput are better when lower. */
  private static final Map<String, ToDoubleFunction<EvaluationReport.ModelReport>> COST = costs();

  private static final Set<String> FIGURES_HIGHER_BETTER =
      Set.of(
          "cosine_min",
          "cosine_p01",
          "cosine_p05",
          "cosine_p50",
          "macro_precision",
          "macro_recall",
          "weighted_f1",
          "micro_f1");
  private static final Set<String> FIGURES_LOWER_BETTER =
      Set.of("max_abs_error", "max_abs_diff", "flipped_samples");

  private final EvaluationReport report;

  ReportMeasurements(EvaluationReport report) {
    this.report = report;
  }

  @Override
  public String source() {
    return "the report";
  }

  @Override
  public String task() {
    return report.task().name();
  }

  @Override
  public List<String> candidates() {
    return report.candidates().stream().map(EvaluationReport.ModelReport::name).toList();
  }

  @Override
  public List<Slice> slices(String candidate) {
    return model(candidate).map(m -> m.slices()).orElse(List.of()).stream()
        .map(s -> new Slice(s.slice(), s.samples()))
        .toList();
  }

  @Override
  public Optional<Measure> find(String candidate, String slice, String metric) {
    return model(candidate).flatMap(m -> find(m, report.baseline(), slice, metric));
  }

  private Optional<EvaluationReport.ModelReport> model(String candidate) {
    return report.candidates().stream().filter(c -> c.name().equals(candidate)).findFirst();
  }

  private static Map<String, ToDoubleFunction<EvaluationReport.ModelReport>> costs() {
    Map<String, ToDoubleFunction<EvaluationReport.ModelReport>> m = new LinkedHashMap<>();
    m.put("size", r -> r.sizeBytes());
    m.put("latency_mean", r -> r.cost().latency().mean());
    m.put("latency_p50", r -> r.cost().latency().p50());
    m.put("latency_p90", r -> r.cost().latency().p90());
    m.put("latency_p95", r -> r.cost().latency().p95());
    m.put("latency_p99", r -> r.cost().latency().p99());
    m.put("latency_max", r -> r.cost().latency().max());
    m.put("latency_per_sample", r -> r.cost().latency().perSampleMean());
    m.put("throughput", r -> r.cost().throughput());
    m.put("cpu_seconds", r -> r.cost().cpuSeconds());
    m.put("energy_joules", r -> r.cost().energy().joules());
    m.put("energy_per_sample", r -> r.cost().energy().joulesPerSample());
    m.put("load_rss", r -> r.cost().loadRssBytes());
    return Collections.unmodifiableMap(m);
  }

  /** Whether {@code metric} names a cost of a report (size, latency, ...), measured per model. */
  static boolean isCost(String metric) {
    return COST.containsKey(metric);
  }

  /** Names a policy may use on this report, metrics first, then figures, then cost. */
  @Override
  public List<String> metrics() {
    Set<String> names = new LinkedHashSet<>();
    EvaluationReport.SliceResult all =
        (report.candidates().isEmpty() ? report.baseline() : report.candidates().get(0)).all();
    all.metrics().forEach(m -> names.add(m.name()));
    names.addAll(all.figures().keySet());
    names.addAll(COST.keySet());
    return new ArrayList<>(names);
  }

  /** The measure of {@code metric} for {@code model} on {@code slice}, if the report has it. */
  private static Optional<Measure> find(
      EvaluationReport.ModelReport model,
      EvaluationReport.ModelReport baseline,
      String slice,
      String metric) {
    if (COST.containsKey(metric)) {
      if (model.cost() == null || baseline.cost() == null) {
        return Optional.empty();
      }
      double v = COST.get(metric).applyAsDouble(model);
      double b = COST.get(metric).applyAsDouble(baseline);
      return Optional.of(
          new Measure(
              metric,
              Measure.Source.COST,
              metric.equals("throughput"),
              false,
              v,
              null,
              null,
              b,
              v - b,
              null,
              null));
    }
    Optional<EvaluationReport.SliceResult> s = model.slice(slice);
    if (s.isEmpty()) {
      return Optional.empty();
    }
    Optional<MetricEstimate> estimate = s.get().metric(metric);
    if (estimate.isPresent()) {
      MetricEstimate e = estimate.get();
      Double value = e.value();
      if (value == null && metric.equals("sqnr_db")) {
        // The report writes an infinite SQNR (no noise at all: outputs equal the baseline's) as
        // null, since JSON has no infinity.
        value = Double.POSITIVE_INFINITY;
      }
      return Optional.of(
          new Measure(
              metric,
              Measure.Source.METRIC,
              e.higherIsBetter(),
              e.vsBaseline(),
              value,
              e.low(),
              e.high(),
              e.baseline(),
              e.delta(),
              e.deltaLow(),
              e.deltaHigh()));
    }
    Map<String, Double> figures = s.get().figures();
    if (figures != null && figures.containsKey(metric)) {
      Double v = figures.get(metric);
      Double b =
          baseline
              .slice(slice)
              .map(EvaluationReport.SliceResult::figures)
              .map(f -> f.get(metric))
              .orElse(null);
      Boolean higher =
          FIGURES_HIGHER_BETTER.contains(metric)
              ? Boolean.TRUE
              : FIGURES_LOWER_BETTER.contains(metric) ? Boolean.FALSE : null;
      return Optional.of(
          new Measure(
              metric,
              Measure.Source.FIGURE,
              higher,
              false,
              v,
              null,
              null,
              b,
              v == null || b == null ? null : v - b,
              null,
              null));
    }
    return Optional.empty();
  }
}

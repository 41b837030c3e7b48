package io.quantguard.report;

import io.quantguard.onnx.RunEnvironment;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The tables both human-readable reports show, built once so Markdown and HTML say the same thing:
 * verdicts, headline metrics with intervals and differences, McNemar, per-class F1, flips, slices,
 * cost.
 */
final class ReportTables {
  /** A titled table of text cells; {@code note} is a sentence shown under it. */
  record Table(String title, List<String> header, List<List<String>> rows, @Nullable String note) {}

  private static final int MAX_SLICE_ROWS = 40;
  private static final int MAX_FLIPS = 8;
  private static final List<String> TAIL_METRICS =
      List.of("cosine_p1", "cosine_below_0_98", "confident_flip_rate");

  private final EvaluationReport r;

  ReportTables(EvaluationReport report) {
    this.r = report;
  }

  String title() {
    long samples = r.data().stream().mapToLong(EvaluationReport.DataInfo::samples).sum();
    return "QuantGuard evaluation: "
        + r.task().name()
        + ", "
        + r.candidates().size()
        + " candidate"
        + (r.candidates().size() == 1 ? "" : "s")
        + " vs "
        + r.baseline().name()
        + " on "
        + Format.count(samples)
        + " samples";
  }

  String intro() {
    List<String> data = new ArrayList<>();
    r.data().forEach(d -> data.add(d.name() + " (" + Format.count(d.samples()) + ")"));
    return "Task `"
        + r.task().spec()
        + "` on "
        + String.join(", ", data)
        + "; every model ran on the same batches. Intervals: "
        + Math.round(r.settings().confidence() * 100)
        + " % paired percentile bootstrap, "
        + Format.count(r.settings().bootstrapResamples())
        + " resamples, seed "
        + r.settings().seed()
        + ". Δ = candidate − baseline.";
  }

  Table verdicts() {
    List<List<String>> rows = new ArrayList<>();
    for (EvaluationReport.ModelReport m : r.candidates()) {
      rows.add(List.of(m.name(), m.verdict().summary()));
    }
    return new Table("Verdict", List.of("candidate", "verdict"), rows, null);
  }

  Table headline() {
    List<String> header = new ArrayList<>(List.of("metric", r.baseline().name() + " (baseline)"));
    for (EvaluationReport.ModelReport c : r.candidates()) {
      header.add(c.name());
      header.add("Δ " + c.name());
    }
    List<List<String>> rows = new ArrayList<>();
    for (String metric : metricNames(r.candidates().get(0).all())) {
      List<String> row = new ArrayList<>();
      MetricEstimate first = r.candidates().get(0).all().metric(metric).orElseThrow();
      row.add(metric + " " + Format.direction(first));
      row.add(
          first.vsBaseline()
              ? "—"
              : r.baseline()
                  .all()
                  .metric(metric)
                  .map(b -> Format.num(b.value()) + " " + Format.interval(b.low(), b.high()))
                  .orElse("—"));
      for (EvaluationReport.ModelReport c : r.candidates()) {
        var m = c.all().metric(metric);
        row.add(
            m.map(e -> Format.num(e.value()) + " " + Format.interval(e.low(), e.high()))
                .orElse(""));
        row.add(
            m.filter(e -> !e.vsBaseline())
                .map(
                    e ->
                        (e.significantlyWorse() ? "⚠ " : "")
                            + Format.signed(e.delta())
                            + " "
                            + Format.signedInterval(e.deltaLow(), e.deltaHigh()))
                .orElse(""));
      }
      rows.add(row);
    }
    return new Table(
        "Metrics (all samples)",
        header,
        rows,
        "↑ higher is better, ↓ lower is better; ⚠ marks a difference whose interval excludes 0 on"
            + " the bad side.");
  }

  Table figures() {
    Set<String> names = new LinkedHashSet<>();
    r.models().forEach(m -> names.addAll(m.all().figures().keySet()));
    List<String> header = new ArrayList<>(List.of("figure"));
    r.models().forEach(m -> header.add(m.name()));
    List<List<String>> rows = new ArrayList<>();
    for (String f : names) {
      List<String> row = new ArrayList<>(List.of(f));
      r.models().forEach(m -> row.add(Format.num(m.all().figures().get(f))));
      rows.add(row);
    }
    return new Table("Other figures", header, rows, null);
  }

  Table mcnemar() {
    List<List<String>> rows = new ArrayList<>();
    for (EvaluationReport.ModelReport c : r.candidates()) {
      ClassificationDetail d = c.all().classification();
      if (d != null && d.mcnemar() != null) {
        McNemarTest t = d.mcnemar();
        rows.add(
            List.of(
                c.name(),
                Format.count(t.baselineOnlyCorrect()),
                Format.count(t.modelOnlyCorrect()),
                Format.p(t.midP()),
                Format.p(t.exactP()),
                Format.p(t.chiSquareP())));
      }
    }
    return new Table(
        "McNemar's test (paired accuracy)",
        List.of(
            "candidate",
            "b: only baseline right",
            "c: only candidate right",
            "mid-p",
            "exact p",
            "χ² p (corrected)"),
        rows,
        "Only discordant samples count; mid-p is the headline (Fagerland et al. 2013).");
  }

  Table perClass() {
    ClassificationDetail base = r.baseline().all().classification();
    List<String> header = new ArrayList<>(List.of("class", "support", r.baseline().name() + " F1"));
    r.candidates().forEach(c -> header.add("Δ F1 " + c.name()));
    List<List<String>> rows = new ArrayList<>();
    if (base != null) {
      for (int i = 0; i < base.perClass().size(); i++) {
        ClassScores b = base.perClass().get(i);
        List<String> row =
            new ArrayList<>(List.of(b.name(), Format.count(b.support()), Format.num(b.f1())));
        for (EvaluationReport.ModelReport c : r.candidates()) {
          ClassificationDetail d = c.all().classification();
          row.add(
              d != null && i < d.perClass().size()
                  ? Format.signed(d.perClass().get(i).f1Delta())
                  : "");
        }
        rows.add(row);
      }
    }
    return new Table("Per-class F1", header, rows, null);
  }

  Table flips() {
    List<List<String>> rows = new ArrayList<>();
    for (EvaluationReport.ModelReport c : r.candidates()) {
      ClassificationDetail d = c.all().classification();
      if (d == null) {
        continue;
      }
      d.flips().stream()
          .limit(MAX_FLIPS)
          .forEach(
              f -> rows.add(List.of(c.name(), f.from() + " → " + f.to(), Format.count(f.count()))));
    }
    return new Table(
        "Most frequent prediction flips",
        List.of("candidate", "baseline class → candidate class", "samples"),
        rows,
        null);
  }

  Table slices() {
    String primary = primaryMetric();
    List<String> header = new ArrayList<>(List.of("slice", "samples", r.baseline().name()));
    r.candidates().forEach(c -> header.add((isVsBaseline(primary) ? "" : "Δ ") + c.name()));
    List<List<String>> rows = new ArrayList<>();
    for (EvaluationReport.SliceResult s : r.baseline().slices()) {
      if (rows.size() >= MAX_SLICE_ROWS) {
        break;
      }
      List<String> row = new ArrayList<>(List.of(s.slice(), Format.count(s.samples())));
      row.add(
          isVsBaseline(primary)
              ? "—"
              : s.metric(primary).map(e -> Format.num(e.value())).orElse(""));
      for (EvaluationReport.ModelReport c : r.candidates()) {
        boolean worst = c.worstSlice() != null && c.worstSlice().slice().equals(s.slice());
        row.add(
            (worst ? "▼ " : "")
                + c.slice(s.slice())
                    .flatMap(x -> x.metric(primary))
                    .map(
                        e ->
                            e.vsBaseline()
                                ? Format.num(e.value()) + " " + Format.interval(e.low(), e.high())
                                : Format.signed(e.delta())
                                    + " "
                                    + Format.signedInterval(e.deltaLow(), e.deltaHigh()))
                    .orElse(""));
      }
      rows.add(row);
    }
    List<String> worst = new ArrayList<>();
    for (EvaluationReport.ModelReport c : r.candidates()) {
      if (c.worstSlice() != null) {
        EvaluationReport.WorstSlice w = c.worstSlice();
        worst.add(
            c.name()
                + ": "
                + w.slice()
                + " ("
                + w.metric()
                + " "
                + Format.num(w.value())
                + (w.delta() == null ? "" : ", Δ " + Format.signed(w.delta()))
                + ")");
      }
    }
    return new Table(
        "Slices: " + primary,
        header,
        rows,
        worst.isEmpty() ? null : "▼ worst slice (≥ 30 samples) — " + String.join("; ", worst));
  }

  /**
   * The tail per slice: a slice can keep a good mean while its worst samples collapse. Empty
   * without slices or without tail metrics.
   */
  Table sliceTail() {
    List<String> metrics =
        r.candidates().isEmpty()
            ? List.of()
            : TAIL_METRICS.stream()
                .filter(m -> r.candidates().get(0).all().metric(m).isPresent())
                .toList();
    List<List<String>> rows = new ArrayList<>();
    List<String> header = new ArrayList<>(List.of("slice", "samples"));
    if (metrics.isEmpty() || r.baseline().slices().size() <= 1) {
      return new Table("Slices: the tail", header, rows, null);
    }
    for (EvaluationReport.ModelReport c : r.candidates()) {
      metrics.forEach(m -> header.add(m + " " + c.name()));
    }
    for (EvaluationReport.SliceResult s : r.baseline().slices()) {
      if (rows.size() >= MAX_SLICE_ROWS) {
        break;
      }
      List<String> row = new ArrayList<>(List.of(s.slice(), Format.count(s.samples())));
      for (EvaluationReport.ModelReport c : r.candidates()) {
        for (String m : metrics) {
          row.add(
              c.slice(s.slice())
                  .flatMap(x -> x.metric(m))
                  .map(e -> Format.num(e.value()) + " " + Format.interval(e.low(), e.high()))
                  .orElse(""));
        }
      }
      rows.add(row);
    }
    return new Table(
        "Slices: the tail",
        header,
        rows,
        "cosine_p1: the 1st percentile of the per-sample cosine; cosine_below_0_98: the share of"
            + " samples below 0.98; confident_flip_rate: flips where the baseline's top-1 minus"
            + " top-2 probability was at least the task's margin.");
  }

  Table cost() {
    List<List<String>> rows = new ArrayList<>();
    for (EvaluationReport.ModelReport m : r.models()) {
      EvaluationReport.Cost c = m.cost();
      EvaluationReport.Latency l = c.latency();
      rows.add(
          List.of(
              m.name(),
              Format.bytes(m.sizeBytes()),
              Format.ms(l.p50()),
              Format.ms(l.p95()),
              Format.ms(l.p99()),
              String.format(java.util.Locale.ROOT, "%,.0f", c.throughput()),
              String.format(java.util.Locale.ROOT, "%.2f", c.cpuSeconds()),
              String.format(
                  java.util.Locale.ROOT, "%.1f (%s)", c.energy().joules(), c.energy().method()),
              Format.bytes(Math.max(0, c.loadRssBytes()))));
    }
    int batch = r.settings().batchSize();
    String energy = r.baseline().cost().energy().note();
    return new Table(
        "Cost",
        List.of(
            "model",
            "size",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "samples/s",
            "CPU s",
            "energy J",
            "load RSS"),
        rows,
        "Latency per batch of "
            + batch
            + " from the evaluation run itself (models in turn on the same batches). Energy: "
            + energy
            + "."
            + (r.peakRssBytes() == null
                ? ""
                : " Peak process RSS " + Format.bytes(r.peakRssBytes()) + "."));
  }

  /** Calibration coverage per slice, or an empty table when the evaluation did not measure it. */
  Table calibrationCoverage() {
    CalibrationCoverage c = r.calibrationCoverage();
    List<List<String>> rows = new ArrayList<>();
    if (c != null) {
      for (CalibrationCoverage.Slice s :
          c.slices().subList(0, Math.min(c.slices().size(), MAX_SLICE_ROWS))) {
        CalibrationCoverage.TensorOverflow worst =
            s.tensors().isEmpty() ? null : s.tensors().get(0);
        rows.add(
            List.of(
                s.slice(),
                Format.count(s.samples()),
                Format.num(s.rate()),
                worst == null || worst.rate() == 0
                    ? "—"
                    : worst.tensor() + " (" + Format.num(worst.rate()) + ")"));
      }
    }
    return new Table(
        "Calibration coverage",
        List.of(
            "slice", "samples", "FP32 activations outside the calibrated range", "worst tensor"),
        rows,
        c == null
            ? null
            : "Ranges of "
                + c.tensors()
                + " activation tensors read from "
                + c.quantizedModel()
                + "; a value counts when it is more than half a quantization step outside its"
                + " range, where the quantized model clips it."
                + (c.unmatched().isEmpty()
                    ? ""
                    : " Not in the baseline, not measured: " + c.unmatched().size() + " tensors."));
  }

  /** One sentence on calibration coverage for the terminal summary. */
  String coverageLine(CalibrationCoverage c) {
    CalibrationCoverage.Slice all = c.slices().get(0);
    CalibrationCoverage.TensorOverflow worst =
        all.tensors().isEmpty() ? null : all.tensors().get(0);
    return "Calibration coverage: "
        + Format.num(all.rate())
        + " of the FP32 activations of "
        + c.tensors()
        + " tensors fall outside the ranges calibrated in "
        + c.quantizedModel()
        + (worst == null || worst.rate() == 0
            ? "."
            : " (worst: " + worst.tensor() + ", " + Format.num(worst.rate()) + ").");
  }

  /** The samples of all data whose activations clip most. */
  Table clippingSamples() {
    CalibrationCoverage c = r.calibrationCoverage();
    List<List<String>> rows = new ArrayList<>();
    if (c != null) {
      for (CalibrationCoverage.ClippingSample s : c.slices().get(0).worstSamples()) {
        rows.add(
            List.of(
                s.sample(),
                Format.num(s.rate()),
                s.worstTensor() + " (" + Format.num(s.worstTensorRate()) + ")",
                s.detail() == null ? "" : s.detail()));
      }
    }
    return new Table(
        "Samples that clip most",
        List.of("sample", "share clipped", "worst tensor", "text"),
        rows,
        null);
  }

  List<String> hygiene() {
    EvaluationReport.Hygiene h = r.hygiene();
    List<String> lines = new ArrayList<>();
    lines.add(
        Format.count(h.testSamples())
            + " test samples, "
            + Format.count(h.distinctTestInputs())
            + " distinct inputs: "
            + Format.count(h.duplicateTestSamples())
            + " exact duplicate"
            + (h.duplicateTestSamples() == 1 ? "" : "s")
            + " (SHA-256 of the input tensors)");
    lines.add(
        h.calibrationSamples() == 0
            ? "no calibration data given, so no calibration/test overlap check"
            : Format.count(h.calibrationSamples())
                + " calibration samples; "
                + Format.count(h.testSamplesInCalibration())
                + " test samples also occur in them");
    h.examples().forEach(e -> lines.add("e.g. " + e));
    return lines;
  }

  List<String> settings() {
    EvaluationReport.Settings s = r.settings();
    RunEnvironment t = r.tool();
    return List.of(
        "schema "
            + r.schema()
            + ", QuantGuard "
            + t.quantguard()
            + ", ONNX Runtime "
            + t.onnxRuntime()
            + ", Java "
            + t.java()
            + ", "
            + t.os()
            + ", "
            + t.cpus()
            + " CPUs"
            + (t.cpuModel() != null ? " (" + t.cpuModel() + ")" : ""),
        "batch size " + s.batchSize() + "; session: " + s.session(),
        "slices by " + (s.sliceBy().isEmpty() ? "nothing" : String.join(", ", s.sliceBy())),
        "models: "
            + String.join(
                ", ", r.models().stream().map(m -> m.name() + " = " + m.file()).toList()));
  }

  /** The primary metric: the first headline of the first candidate. */
  String primaryMetric() {
    return r.candidates().get(0).all().metrics().stream()
        .findFirst()
        .map(MetricEstimate::name)
        .orElse("");
  }

  private boolean isVsBaseline(String metric) {
    return r.candidates().get(0).all().metric(metric).map(MetricEstimate::vsBaseline).orElse(true);
  }

  boolean classification() {
    ClassificationDetail d = r.baseline().all().classification();
    return d != null && !d.perClass().isEmpty();
  }

  private static List<String> metricNames(EvaluationReport.SliceResult s) {
    return s.metrics().stream().map(MetricEstimate::name).toList();
  }
}

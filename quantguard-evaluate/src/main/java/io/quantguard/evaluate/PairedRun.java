package io.quantguard.evaluate;

import io.quantguard.evaluate.drift.CalibrationRanges;
import io.quantguard.evaluate.drift.OverflowCounts;
import io.quantguard.evaluate.drift.OverflowMeter;
import io.quantguard.evaluate.drift.OverflowProbe;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.ModelSummary;
import io.quantguard.onnx.RunEnvironment;
import io.quantguard.report.CalibrationCoverage;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.MetricEstimate;
import io.quantguard.report.Verdicts;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.Prefetch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One run of an {@link Evaluation} with its task's prediction type bound. */
final class PairedRun<P> {
  private static final Logger LOG = LoggerFactory.getLogger(Evaluation.class);
  private static final String ALL = "all";

  /** More distinct values than this in one slicing are folded into "(other)". */
  private static final int MAX_SLICES_PER_SLICER = 64;

  /** Slices smaller than this are not called out as the worst. */
  private static final int MIN_WORST_SLICE = 30;

  /** Samples named per slice as clipping most. */
  private static final int WORST_CLIPPING_SAMPLES = 5;

  /** Characters of a sample's text shown next to its id. */
  private static final int DETAIL_CHARS = 80;

  private record SliceOrder(int slicer, double order, int seen) {}

  private final Evaluation ev;
  private final Task<P> task;
  private final List<Slicer> slicers = new ArrayList<>();
  private final int models;
  private final List<Map<String, PairedMetrics<P>>> metrics = new ArrayList<>();
  private final Map<String, SliceOrder> sliceOrder = new HashMap<>();
  private final Map<Integer, Integer> slicesPerSlicer = new HashMap<>();
  private final List<CostMeter> meters = new ArrayList<>();
  private final List<String> warnings = new ArrayList<>();
  private final InputHashes hashes = new InputHashes();
  private final Optional<Rapl> rapl = Rapl.open(Path.of("/sys/class/powercap"));
  private final long[] loadRss;
  private final List<InferenceSession> sessions = new ArrayList<>();
  private final List<List<String>> outputs = new ArrayList<>();
  private @Nullable OverflowProbe probe;
  private final Map<String, OverflowMeter> coverage = new HashMap<>();

  PairedRun(Evaluation ev, Task<P> task) {
    this.ev = ev;
    this.task = task;
    this.models = ev.models.size();
    this.loadRss = new long[models];
    if (task.sliceable()) {
      if (ev.data.size() > 1 && ev.slicers.stream().noneMatch(s -> s instanceof Slicer.ByData)) {
        slicers.add(new Slicer.ByData());
      }
      slicers.addAll(ev.slicers);
    } else if (!ev.slicers.isEmpty()) {
      warn(
          "the " + task.name() + " task scores the whole data set at once; its slices are ignored");
    }
    for (int m = 0; m < models; m++) {
      metrics.add(new HashMap<>());
      meters.add(new CostMeter());
    }
  }

  EvaluationReport run() {
    if (ev.calibration != null) {
      try (BatchStream s = ev.calibration.open(ev.batchSize)) {
        while (s.hasNext()) {
          hashes.addCalibration(s.next());
        }
      }
    }
    try {
      for (Evaluation.Model m : ev.models) {
        long before = ProcessStats.rssBytes();
        InferenceSession s = InferenceSession.open(m.file(), ev.session);
        sessions.add(s);
        loadRss[sessions.size() - 1] = ProcessStats.rssBytes() - before;
        outputs.add(task.outputs(m.name(), s.outputNames()));
      }
      if (ev.calibrationRanges != null) {
        CalibrationRanges ranges = CalibrationRanges.of(ModelIO.load(ev.calibrationRanges));
        probe = OverflowProbe.open(ev.models.get(0).file(), ranges, ev.session);
      }
      List<EvaluationReport.DataInfo> dataInfo = pass();
      return report(dataInfo);
    } finally {
      sessions.forEach(InferenceSession::close);
      if (probe != null) {
        probe.close();
      }
    }
  }

  /** The single pass: every batch through every model, then into every slice's accumulators. */
  private List<EvaluationReport.DataInfo> pass() {
    List<EvaluationReport.DataInfo> info = new ArrayList<>();
    boolean warm = false;
    long batches = 0;
    for (Evaluation.Data d : ev.data) {
      long done = 0;
      // Decoding and tokenizing the next batches overlaps with inference.
      try (BatchStream s = Prefetch.of(d.source().open(ev.batchSize), 2)) {
        while (s.hasNext()) {
          Batch b = s.next();
          if (!warm) {
            warmUp(b);
            warm = true;
          }
          hashes.addTest(d.name(), b);
          // The first model after a batch arrives shares the CPU with the reader decoding the next
          // one: rotating the order (A B C, B C A, ...) spreads that over all models alike.
          List<P> predictions = new ArrayList<>(Collections.nCopies(models, null));
          for (int i = 0; i < models; i++) {
            int m = (int) ((batches + i) % models);
            predictions.set(m, task.predict(b, timed(m, b)));
          }
          batches++;
          // The FP32 activations for calibration coverage: one more baseline run, untimed.
          OverflowCounts clipping = probe == null ? null : probe.count(b.inputs());
          route(d.name(), b, predictions, clipping);
          done += b.size();
          ev.progress.update(d.name(), done, d.source().size().orElse(-1));
        }
      }
      if (done == 0) {
        throw new InvalidInputException(
            d.source().name(), "has no samples", "check the path, offset and limit");
      }
      info.add(new EvaluationReport.DataInfo(d.name(), d.source().name(), done));
    }
    return info;
  }

  /**
   * One untimed run per model on the first batch, so that first-run allocations and lazy
   * initialization do not show up as latency.
   */
  private void warmUp(Batch b) {
    for (int m = 0; m < models; m++) {
      long before = ProcessStats.rssBytes();
      sessions.get(m).run(b.inputs(), outputs.get(m));
      loadRss[m] += ProcessStats.rssBytes() - before;
    }
  }

  private Map<String, Tensor> timed(int m, Batch b) {
    long cpu0 = ProcessStats.cpuNanos();
    double e0 = rapl.map(Rapl::joules).orElse(0.0);
    long t0 = System.nanoTime();
    Map<String, Tensor> out = sessions.get(m).run(b.inputs(), outputs.get(m));
    long elapsed = System.nanoTime() - t0;
    long cpu = ProcessStats.cpuNanos() - cpu0;
    double joules = rapl.map(Rapl::joules).orElse(0.0) - e0;
    meters.get(m).record(b.size(), elapsed, cpu, joules);
    return out;
  }

  private void route(
      String dataset, Batch b, List<P> predictions, @Nullable OverflowCounts clipping) {
    int n = b.size();
    Map<String, int[]> rows = new LinkedHashMap<>();
    rows.put(ALL, IntStream.range(0, n).toArray());
    long[] labels = b.labels();
    for (int si = 0; si < slicers.size(); si++) {
      Map<String, List<Integer>> bySlice = new LinkedHashMap<>();
      for (int r = 0; r < n; r++) {
        Slicer.Key k =
            slicers
                .get(si)
                .key(
                    dataset,
                    labels != null ? labels[r] : -1,
                    b.attributes().isEmpty() ? Map.of() : b.attributes().get(r),
                    task);
        if (k != null) {
          bySlice.computeIfAbsent(sliceName(si, k), x -> new ArrayList<>()).add(r);
        }
      }
      bySlice.forEach((k, v) -> rows.put(k, v.stream().mapToInt(Integer::intValue).toArray()));
    }
    OverflowProbe clippingProbe = probe;
    if (clipping != null && clippingProbe != null) {
      List<OverflowMeter.Sample> samples = samples(dataset, b);
      rows.forEach(
          (slice, r) ->
              coverage
                  .computeIfAbsent(
                      slice, k -> new OverflowMeter(clippingProbe.ranges(), WORST_CLIPPING_SAMPLES))
                  .add(clipping, r, samples));
    }
    P base = predictions.get(0);
    for (int m = 0; m < models; m++) {
      P mine = predictions.get(m);
      Map<String, PairedMetrics<P>> acc = metrics.get(m);
      for (Map.Entry<String, int[]> e : rows.entrySet()) {
        acc.computeIfAbsent(e.getKey(), x -> task.newMetrics())
            .add(new Observation<>(dataset, b, base, mine, e.getValue()));
      }
    }
  }

  /** Each row's id ({@code data#index}) and the start of its text, where it has one. */
  private static List<OverflowMeter.Sample> samples(String dataset, Batch b) {
    List<OverflowMeter.Sample> out = new ArrayList<>();
    for (int r = 0; r < b.size(); r++) {
      String text = b.attributes().isEmpty() ? null : b.attributes().get(r).get("text");
      out.add(
          new OverflowMeter.Sample(
              dataset + "#" + (b.offset() + r),
              text == null || text.length() <= DETAIL_CHARS
                  ? text
                  : text.substring(0, DETAIL_CHARS) + "…"));
    }
    return out;
  }

  private String sliceName(int slicer, Slicer.Key k) {
    if (sliceOrder.containsKey(k.name())) {
      return k.name();
    }
    int count = slicesPerSlicer.merge(slicer, 1, Integer::sum);
    String name = k.name();
    double order = k.order();
    if (count > MAX_SLICES_PER_SLICER) {
      String prefix = k.name().split("[=:]", 2)[0];
      name = prefix + "=(other)";
      order = Double.POSITIVE_INFINITY;
      if (!sliceOrder.containsKey(name)) {
        warn(
            "slicer "
                + prefix
                + " has more than "
                + MAX_SLICES_PER_SLICER
                + " values; the rest are in slice "
                + name);
      }
    }
    sliceOrder.putIfAbsent(name, new SliceOrder(slicer, order, sliceOrder.size()));
    return name;
  }

  private List<String> orderedSlices() {
    List<String> names = new ArrayList<>(metrics.get(0).keySet());
    names.remove(ALL);
    names.sort(
        Comparator.comparingInt((String s) -> order(s).slicer())
            .thenComparingDouble(s -> Double.isNaN(order(s).order()) ? 0 : order(s).order())
            .thenComparingInt(s -> order(s).seen()));
    names.add(0, ALL);
    return names;
  }

  /** Where a slice sorts; every slice got one when its name was first made. */
  private SliceOrder order(String slice) {
    return Objects.requireNonNull(sliceOrder.get(slice), () -> "slice " + slice + " has no order");
  }

  private EvaluationReport report(List<EvaluationReport.DataInfo> dataInfo) {
    List<String> slices = orderedSlices();
    record Job(int model, String slice) {}
    List<Job> jobs = new ArrayList<>();
    for (int m = 0; m < models; m++) {
      for (String s : slices) {
        jobs.add(new Job(m, s));
      }
    }
    // Independent, deterministically seeded bootstraps: parallel only for wall time. The baseline
    // needs no resampling of its own: every candidate's paired bootstrap recomputes the baseline's
    // metrics on the same resampled rows, so its intervals are taken from the first candidate's.
    Bootstrap pointOnly = new Bootstrap(0, ev.bootstrap.confidence(), ev.bootstrap.seed());
    List<EvaluationReport.SliceResult> results =
        new ArrayList<>(
            jobs.parallelStream()
                .map(
                    j ->
                        EvaluationReport.SliceResult.of(
                            j.slice(),
                            Objects.requireNonNull(
                                    metrics.get(j.model()).get(j.slice()),
                                    () -> "no metrics for slice " + j.slice())
                                .result(j.model() == 0 ? pointOnly : ev.bootstrap)))
                .toList());
    for (int i = 0; i < slices.size(); i++) {
      results.set(i, withBaselineIntervals(results.get(i), results.get(slices.size() + i)));
    }
    EvaluationReport.Hygiene hygiene = hashes.summary();
    if (hygiene.duplicateTestSamples() > 0) {
      warn(
          hygiene.duplicateTestSamples()
              + " test samples are exact duplicates of earlier test samples");
    }
    if (hygiene.testSamplesInCalibration() > 0) {
      warn(hygiene.testSamplesInCalibration() + " test samples also occur in the calibration data");
    }
    if (rapl.isEmpty()) {
      LOG.info(
          "energy is an estimate (CPU seconds × {} W per core): RAPL counters under"
              + " /sys/class/powercap are not readable here",
          ev.wattsPerCore);
    }
    List<EvaluationReport.ModelReport> reports = new ArrayList<>();
    double alpha = 1 - ev.bootstrap.confidence();
    for (int m = 0; m < models; m++) {
      Evaluation.Model model = ev.models.get(m);
      List<EvaluationReport.SliceResult> mine =
          results.subList(m * slices.size(), (m + 1) * slices.size());
      EvaluationReport.Cost cost =
          meters.get(m).cost(rapl.isPresent(), ev.wattsPerCore, loadRss[m]);
      long size = sizeOnDisk(model.file());
      EvaluationReport.Verdict v =
          m == 0
              ? new EvaluationReport.Verdict(
                  "baseline", "the reference every candidate is compared with")
              : Verdicts.of(mine.get(0), cost, size, reports.get(0), alpha);
      reports.add(
          new EvaluationReport.ModelReport(
              model.name(),
              m == 0 ? "baseline" : "candidate",
              model.file().toString(),
              size,
              List.copyOf(mine),
              m == 0 ? null : worst(mine),
              cost,
              v));
    }
    long peak = ProcessStats.peakRssBytes();
    OverflowProbe clippingProbe = probe;
    Path rangesModel = ev.calibrationRanges;
    CalibrationCoverage covered =
        clippingProbe == null || rangesModel == null
            ? null
            : coverage(clippingProbe, rangesModel, slices);
    return new EvaluationReport(
        EvaluationReport.SCHEMA,
        RunEnvironment.current(InferenceSession.runtimeVersion()),
        new EvaluationReport.TaskInfo(task.name(), ev.taskSpec),
        dataInfo,
        new EvaluationReport.Settings(
            ev.batchSize,
            ev.bootstrap.resamples(),
            ev.bootstrap.confidence(),
            ev.bootstrap.seed(),
            ev.session.toString(),
            slicers.stream().map(Slicer::spec).toList(),
            ev.wattsPerCore),
        reports,
        hygiene,
        peak < 0 ? null : peak,
        warnings,
        covered);
  }

  private CalibrationCoverage coverage(
      OverflowProbe clippingProbe, Path rangesModel, List<String> slices) {
    if (!clippingProbe.unmatched().isEmpty()) {
      warn(
          clippingProbe.unmatched().size()
              + " tensors with a calibrated range are not in the baseline (e.g. "
              + clippingProbe.unmatched().get(0)
              + "): their coverage is not measured");
    }
    if (clippingProbe.ranges().ranges().isEmpty()) {
      warn(
          rangesModel
              + " has no calibrated activation that the baseline also has: is it a static (QDQ)"
              + " quantization of the baseline?");
    }
    List<CalibrationCoverage.Slice> out = new ArrayList<>();
    for (String s : slices) {
      out.add(
          Objects.requireNonNull(coverage.get(s), () -> "no clipping counts for slice " + s)
              .result(s));
    }
    return new CalibrationCoverage(
        rangesModel.toString(),
        clippingProbe.ranges().ranges().size(),
        clippingProbe.unmatched(),
        out);
  }

  /** The baseline's own result with the intervals its first candidate's bootstrap drew for it. */
  private static EvaluationReport.SliceResult withBaselineIntervals(
      EvaluationReport.SliceResult baseline, EvaluationReport.SliceResult firstCandidate) {
    List<MetricEstimate> patched = new ArrayList<>();
    for (MetricEstimate m : baseline.metrics()) {
      MetricEstimate c = firstCandidate.metric(m.name()).orElse(null);
      if (m.vsBaseline()) {
        // The baseline against itself: exact, nothing to sample.
        patched.add(
            new MetricEstimate(
                m.name(),
                m.higherIsBetter(),
                true,
                m.value(),
                m.value(),
                m.value(),
                null,
                null,
                null,
                null,
                null,
                null));
      } else {
        Double lo = c == null ? null : c.baselineLow();
        Double hi = c == null ? null : c.baselineHigh();
        patched.add(
            new MetricEstimate(
                m.name(),
                m.higherIsBetter(),
                false,
                m.value(),
                lo,
                hi,
                m.value(),
                lo,
                hi,
                0.0,
                0.0,
                0.0));
      }
    }
    return new EvaluationReport.SliceResult(
        baseline.slice(),
        baseline.samples(),
        patched,
        baseline.figures(),
        baseline.classification());
  }

  /**
   * The slice (≥ 30 samples) where the primary metric is worst for this candidate: the most harmful
   * difference to the baseline (only if it is harmful at all), or for metrics that compare with the
   * baseline themselves, the worst value (only if the slices differ).
   */
  private static EvaluationReport.@Nullable WorstSlice worst(
      List<EvaluationReport.SliceResult> slices) {
    Optional<MetricEstimate> primary = slices.get(0).metrics().stream().findFirst();
    if (primary.isEmpty() || slices.size() < 2) {
      return null;
    }
    String name = primary.get().name();
    EvaluationReport.WorstSlice worst = null;
    double worstGoodness = Double.POSITIVE_INFINITY;
    double bestGoodness = Double.NEGATIVE_INFINITY;
    for (EvaluationReport.SliceResult s : slices.subList(1, slices.size())) {
      Optional<MetricEstimate> m = s.metric(name);
      if (s.samples() < MIN_WORST_SLICE || m.isEmpty()) {
        continue;
      }
      MetricEstimate e = m.get();
      Double x = e.vsBaseline() ? e.value() : e.delta();
      if (x == null) {
        continue;
      }
      double goodness = e.higherIsBetter() ? x : -x;
      bestGoodness = Math.max(bestGoodness, goodness);
      if (goodness < worstGoodness) {
        worstGoodness = goodness;
        worst = new EvaluationReport.WorstSlice(s.slice(), s.samples(), name, e.value(), e.delta());
      }
    }
    boolean harmful = primary.get().vsBaseline() ? worstGoodness < bestGoodness : worstGoodness < 0;
    return harmful ? worst : null;
  }

  /** The model file plus the external data files it references. */
  private static long sizeOnDisk(Path file) {
    try {
      long size = Files.size(file);
      ModelSummary s = ModelSummary.of(ModelIO.load(file));
      return size + s.externalDataBytes();
    } catch (IOException e) {
      throw new InvalidInputException(
          file.toString(), "cannot be read: " + e.getMessage(), "check the file", e);
    }
  }

  private void warn(String w) {
    warnings.add(w);
    LOG.warn(w);
  }
}

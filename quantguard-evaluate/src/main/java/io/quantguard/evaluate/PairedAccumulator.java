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
import io.quantguard.runtime.data.Batch;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;

/**
 * The mergeable state of a paired evaluation: per model and slice the task's {@link PairedMetrics},
 * where each slice sorts, and each model's {@link CostMeter}. A local {@link Evaluation} fills one
 * in its single pass; a distributed one fills one per partition and merges them (any split, merged
 * in any order, gives the same report when the bootstrap resamples by key, {@link
 * Bootstrap.Resampling#POISSON}); either way {@link #report} writes the same {@code report.json}.
 *
 * <p>Serializable when the task's metrics are (classification and embedding tasks).
 *
 * @param <P> the task's predictions of one model on one batch
 */
public final class PairedAccumulator<P> implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The slice of every sample. */
  public static final String ALL = "all";

  /** More distinct values than this in one slicing are folded into "(other)". */
  private static final int MAX_SLICES_PER_SLICER = 64;

  /** Slices smaller than this are not called out as the worst. */
  private static final int MIN_WORST_SLICE = 30;

  /** Samples named per slice as clipping most. */
  private static final int WORST_CLIPPING_SAMPLES = 5;

  /** Characters of a sample's text shown next to its id. */
  private static final int DETAIL_CHARS = 80;

  /**
   * Where a slice sorts: by slicer, then by its order value, then by the position of the first
   * sample in it (the order the data set reads in).
   */
  private record SliceOrder(int slicer, double order, long first) implements Serializable {
    private static final long serialVersionUID = 1L;
  }

  private final List<Slicer> slicers;
  private final Bootstrap bootstrap;
  private final List<HashMap<String, PairedMetrics<P>>> metrics = new ArrayList<>();
  private final HashMap<String, SliceOrder> sliceOrder = new HashMap<>();
  private final HashMap<Integer, Integer> slicesPerSlicer = new HashMap<>();
  private final List<CostMeter> meters = new ArrayList<>();
  private final HashMap<String, OverflowMeter> coverage = new HashMap<>();
  private final LinkedHashSet<String> warnings = new LinkedHashSet<>();

  /**
   * @param slicers how samples are sliced (besides {@value #ALL})
   * @param models the baseline and the candidates, baseline first
   * @param bootstrap the bootstrap of the report; under Poisson resampling a task that can sums its
   *     replicates as rows arrive, so the state does not grow with the rows
   */
  public PairedAccumulator(List<Slicer> slicers, int models, Bootstrap bootstrap) {
    this.slicers = List.copyOf(slicers);
    this.bootstrap = bootstrap;
    for (int m = 0; m < models; m++) {
      metrics.add(new HashMap<>());
      meters.add(new CostMeter());
    }
  }

  /**
   * Adds one batch as every model predicted it (baseline first), and returns the batch rows of each
   * slice.
   *
   * @param position the position of the batch's first sample among all samples of the evaluation
   *     (every data set in turn); it orders slices by first appearance
   */
  public Map<String, int[]> add(
      Task<P> task, String dataset, Batch b, List<P> predictions, long position) {
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
          bySlice.computeIfAbsent(sliceName(si, k, position + r), x -> new ArrayList<>()).add(r);
        }
      }
      bySlice.forEach((k, v) -> rows.put(k, v.stream().mapToInt(Integer::intValue).toArray()));
    }
    P base = predictions.get(0);
    for (int m = 0; m < metrics.size(); m++) {
      P mine = predictions.get(m);
      Map<String, PairedMetrics<P>> acc = metrics.get(m);
      Bootstrap drawn = m == 0 ? pointOnly() : bootstrap;
      for (Map.Entry<String, int[]> e : rows.entrySet()) {
        acc.computeIfAbsent(e.getKey(), x -> task.newMetrics(drawn))
            .add(new Observation<>(dataset, b, base, mine, e.getValue()));
      }
    }
    return rows;
  }

  /**
   * Adds the clipping counts of a batch (its FP32 activations against calibrated ranges) to the
   * calibration coverage of every slice {@link #add} put its rows in.
   *
   * @param rows the batch rows of each slice, as {@link #add} returned them
   */
  public void addClipping(
      CalibrationRanges ranges,
      String dataset,
      Batch b,
      OverflowCounts clipping,
      Map<String, int[]> rows) {
    List<OverflowMeter.Sample> samples = new ArrayList<>();
    for (int r = 0; r < b.size(); r++) {
      String text = b.attributes().isEmpty() ? null : b.attributes().get(r).get("text");
      samples.add(
          new OverflowMeter.Sample(
              dataset + "#" + (b.offset() + r),
              text == null || text.length() <= DETAIL_CHARS
                  ? text
                  : text.substring(0, DETAIL_CHARS) + "…"));
    }
    rows.forEach(
        (slice, r) ->
            coverage
                .computeIfAbsent(slice, k -> new OverflowMeter(ranges, WORST_CLIPPING_SAMPLES))
                .add(clipping, r, samples));
  }

  /**
   * The calibration coverage of every slice, in report order, from the clipping counts {@link
   * #addClipping} added; warns (in the report) of ranges it could not measure.
   *
   * @param quantizedModel the QDQ model the ranges were read from, as the report names it
   * @param probed what the FP32 model has of its ranges
   */
  public CalibrationCoverage coverage(String quantizedModel, OverflowProbe.Matched probed) {
    if (!probed.unmatched().isEmpty()) {
      warnings.add(
          probed.unmatched().size()
              + " tensors with a calibrated range are not in the baseline (e.g. "
              + probed.unmatched().get(0)
              + "): their coverage is not measured");
    }
    if (probed.ranges().ranges().isEmpty()) {
      warnings.add(
          quantizedModel
              + " has no calibrated activation that the baseline also has: is it a static (QDQ)"
              + " quantization of the baseline?");
    }
    List<CalibrationCoverage.Slice> out = new ArrayList<>();
    for (String s : orderedSlices()) {
      out.add(
          Objects.requireNonNull(coverage.get(s), () -> "no clipping counts for slice " + s)
              .result(s));
    }
    return new CalibrationCoverage(
        quantizedModel, probed.ranges().ranges().size(), probed.unmatched(), out);
  }

  /**
   * Records one timed run of model {@code model} on a batch.
   *
   * @param cpuNanos CPU time the run took (negative when unknown)
   * @param joules energy measured while it ran (0 when not measured)
   */
  public void recordRun(int model, int batchSize, long elapsedNanos, long cpuNanos, double joules) {
    meters.get(model).record(batchSize, elapsedNanos, cpuNanos, joules);
  }

  /** Folds in the state of other samples of the same evaluation. */
  public void merge(PairedAccumulator<P> other) {
    if (other.metrics.size() != metrics.size()
        || !other.slicers.equals(slicers)
        || !other.bootstrap.equals(bootstrap)) {
      throw new IllegalArgumentException(
          "cannot merge accumulators of different evaluations (models, slicers or bootstrap"
              + " differ)");
    }
    for (int m = 0; m < metrics.size(); m++) {
      Map<String, PairedMetrics<P>> mine = metrics.get(m);
      other.metrics.get(m).forEach((slice, acc) -> mine.merge(slice, acc, PairedAccumulator::fold));
      meters.get(m).merge(other.meters.get(m));
    }
    other.coverage.forEach(
        (slice, meter) ->
            coverage.merge(
                slice,
                meter,
                (a, b) -> {
                  a.merge(b);
                  return a;
                }));
    other.sliceOrder.forEach(
        (slice, o) -> sliceOrder.merge(slice, o, (a, b) -> a.first() <= b.first() ? a : b));
    other.slicesPerSlicer.forEach((s, c) -> slicesPerSlicer.merge(s, c, Math::max));
    warnings.addAll(other.warnings);
  }

  private static <P> PairedMetrics<P> fold(PairedMetrics<P> a, PairedMetrics<P> b) {
    a.merge(b);
    return a;
  }

  /** Samples added (every sample is in slice {@value #ALL}). */
  public long samples() {
    PairedMetrics<P> all = metrics.get(0).get(ALL);
    return all == null ? 0 : all.samples();
  }

  private String sliceName(int slicer, Slicer.Key k, long position) {
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
        warnings.add(
            "slicer "
                + prefix
                + " has more than "
                + MAX_SLICES_PER_SLICER
                + " values; the rest are in slice "
                + name);
      }
    }
    sliceOrder.putIfAbsent(name, new SliceOrder(slicer, order, position));
    return name;
  }

  /** The slices in report order: {@value #ALL} first, then by slicer, order and appearance. */
  List<String> orderedSlices() {
    List<String> names = new ArrayList<>(metrics.get(0).keySet());
    names.remove(ALL);
    names.sort(
        Comparator.comparingInt((String s) -> order(s).slicer())
            .thenComparingDouble(s -> Double.isNaN(order(s).order()) ? 0 : order(s).order())
            .thenComparingLong(s -> order(s).first()));
    names.add(0, ALL);
    return names;
  }

  private SliceOrder order(String slice) {
    return Objects.requireNonNull(sliceOrder.get(slice), () -> "slice " + slice + " has no order");
  }

  /** A model of the report: what it is, besides what was accumulated. */
  public record Model(String name, String file, long sizeBytes, long loadRssBytes) {
    /** The model file, sized on disk with the external data files it references. */
    public static Model of(String name, Path file, long loadRssBytes) {
      long size;
      try {
        size = Files.size(file) + ModelSummary.of(ModelIO.load(file)).externalDataBytes();
      } catch (IOException e) {
        throw new InvalidInputException(
            file.toString(), "cannot be read: " + e.getMessage(), "check the file", e);
      }
      return new Model(name, file.toString(), size, loadRssBytes);
    }
  }

  /**
   * What the report says besides the accumulated state.
   *
   * @param taskSpec the task as the user wrote it
   * @param models baseline first, in the order of the accumulator's models
   * @param rapl whether energy was measured with RAPL (else estimated from CPU time)
   * @param warnings warnings of the run so far, reported before the accumulator's own
   */
  public record Facts(
      String taskSpec,
      List<EvaluationReport.DataInfo> data,
      EvaluationReport.Settings settings,
      List<Model> models,
      boolean rapl,
      EvaluationReport.Hygiene hygiene,
      @Nullable Long peakRssBytes,
      @Nullable CalibrationCoverage coverage,
      List<String> warnings) {}

  /**
   * The baseline's bootstrap: none of its own, since every candidate's paired bootstrap recomputes
   * the baseline's metrics on the same resampled rows, so its intervals are taken from the first
   * candidate's.
   */
  private Bootstrap pointOnly() {
    return new Bootstrap(0, bootstrap.confidence(), bootstrap.seed()).with(bootstrap.resampling());
  }

  /**
   * The report: per model and slice the task's results with intervals (of the bootstrap the
   * accumulator was made with), costs and verdicts.
   */
  public EvaluationReport report(Task<P> task, Facts facts) {
    int models = metrics.size();
    if (facts.models().size() != models) {
      throw new IllegalArgumentException(
          facts.models().size() + " models described for an accumulator of " + models);
    }
    List<String> slices = orderedSlices();
    record Job(int model, String slice) {}
    List<Job> jobs = new ArrayList<>();
    for (int m = 0; m < models; m++) {
      for (String s : slices) {
        jobs.add(new Job(m, s));
      }
    }
    // Independent, deterministically seeded bootstraps: parallel only for wall time.
    Bootstrap pointOnly = pointOnly();
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
                                .result(j.model() == 0 ? pointOnly : bootstrap)))
                .toList());
    for (int i = 0; i < slices.size(); i++) {
      results.set(i, withBaselineIntervals(results.get(i), results.get(slices.size() + i)));
    }
    List<String> warned = new ArrayList<>(facts.warnings());
    warned.addAll(warnings);
    EvaluationReport.Hygiene hygiene = facts.hygiene();
    if (hygiene.duplicateTestSamples() > 0) {
      warned.add(
          hygiene.duplicateTestSamples()
              + " test samples are exact duplicates of earlier test samples");
    }
    if (hygiene.testSamplesInCalibration() > 0) {
      warned.add(
          hygiene.testSamplesInCalibration() + " test samples also occur in the calibration data");
    }
    List<EvaluationReport.ModelReport> reports = new ArrayList<>();
    double alpha = 1 - bootstrap.confidence();
    double wattsPerCore = facts.settings().wattsPerCore();
    for (int m = 0; m < models; m++) {
      Model model = facts.models().get(m);
      List<EvaluationReport.SliceResult> mine =
          results.subList(m * slices.size(), (m + 1) * slices.size());
      EvaluationReport.Cost cost =
          meters.get(m).cost(facts.rapl(), wattsPerCore, model.loadRssBytes());
      EvaluationReport.Verdict v =
          m == 0
              ? new EvaluationReport.Verdict(
                  "baseline", "the reference every candidate is compared with")
              : Verdicts.of(mine.get(0), cost, model.sizeBytes(), reports.get(0), alpha);
      reports.add(
          new EvaluationReport.ModelReport(
              model.name(),
              m == 0 ? "baseline" : "candidate",
              model.file(),
              model.sizeBytes(),
              List.copyOf(mine),
              m == 0 ? null : worst(mine),
              cost,
              v));
    }
    return new EvaluationReport(
        EvaluationReport.SCHEMA,
        RunEnvironment.current(InferenceSession.runtimeVersion()),
        new EvaluationReport.TaskInfo(task.name(), facts.taskSpec()),
        facts.data(),
        facts.settings(),
        reports,
        hygiene,
        facts.peakRssBytes(),
        warned,
        facts.coverage());
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
}

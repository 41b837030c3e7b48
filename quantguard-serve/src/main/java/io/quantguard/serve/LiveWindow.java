package io.quantguard.serve;

import io.quantguard.evaluate.TensorAgreement;
import io.quantguard.evaluate.task.CosineTail;
import io.quantguard.evaluate.task.Embeddings;
import io.quantguard.evaluate.task.Pooling;
import io.quantguard.report.Measure;
import io.quantguard.report.Measurements;
import io.quantguard.report.MetricSpec;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;

/**
 * A rollout's live window: the candidate against the baseline on the requests both answered, as
 * {@link Measurements} that the rollout's {@code Policy} judges with the same code as {@code gate}.
 * Every number is a running sum (bounded memory, whatever the traffic):
 *
 * <ul>
 *   <li>{@code flip_rate}: rows whose arg-max over the last axis differs, over paired rows;
 *   <li>{@code cosine_mean}, {@code cosine_min}: cos(c, b) = c·b / (|c| |b|) per row (1 when both
 *       are zero, {@link TensorAgreement});
 *   <li>the cosine's low tail, as the offline embedding task reports it ({@link CosineTail}, the
 *       same code): {@code cosine_p0_1}, {@code cosine_p1}, {@code cosine_p5} and the shares below
 *       0.99, 0.98 and 0.95, {@code cosine_below_0_99} …: a mean hides a few collapsed requests.
 *       Over at most {@value #TAIL_ROWS} rows; past that, over a uniform sample of them (Vitter's
 *       algorithm R, seeded), so memory stays bounded;
 *   <li>{@code sqnr_db}: 10 log10(Σ b² / Σ (c − b)²) over all paired values (signal: the baseline;
 *       noise: the candidate's difference);
 *   <li>{@code error_rate}: failed requests over requests each version ran (the baseline's is its
 *       baseline value, so {@code max_drop} and {@code max_ratio} work);
 *   <li>{@code latency_p50}, {@code latency_p95}, {@code latency_p99}: milliseconds from joining
 *       the version's queue to outputs ready, on paired requests (HdrHistogram, 3 digits).
 * </ul>
 *
 * The comparison uses the first output both versions returned. Token states [batch, tokens, dim]
 * are first mean-pooled over the request's {@code attention_mask} and L2-normalized ({@link
 * Pooling}), so a sentence-embedding model is compared on its sentence embeddings, as offline. The
 * {@code all} slice is every paired row. A window made with {@link TrafficSlices} also keeps the
 * same figures per slice tag ({@link #bySlice()}): each a window of its own, whose {@code all} is
 * that slice's rows, so the rollout judges it with the same policy code. A slice window keeps the
 * cosine tail over at most {@value #SLICE_TAIL_ROWS} rows and its latencies at 2 significant digits
 * (about 70 KiB each: 2 × 27 KiB of histogram, 16 KiB of tail), and there are at most {@link
 * TrafficSlices#limit()} + 1 of them. When the server watches the model for drift, the rollout adds
 * the latest closed drift window before judging ({@link #drift}): {@code drift_share}, {@code psi}
 * and {@code overflow_rate} (see {@link DriftFigures}; null without one).
 */
public final class LiveWindow implements Measurements {
  /** The cosine's tail metrics, lower percentiles first. */
  static final List<String> TAIL = CosineTail.metrics().stream().map(MetricSpec::name).toList();

  static final List<String> METRICS = liveMetrics();
  static final int TAIL_ROWS = 65_536;
  static final int SLICE_TAIL_ROWS = 4_096;
  private static final long MAX_MICROS = 3_600_000_000L;

  private static List<String> liveMetrics() {
    List<String> m = new ArrayList<>(List.of("flip_rate", "cosine_mean", "cosine_min", "sqnr_db"));
    m.addAll(TAIL);
    m.addAll(List.of("error_rate", "latency_p50", "latency_p95", "latency_p99"));
    return List.copyOf(m);
  }

  private final ModelKey candidate;
  private final ModelKey baseline;
  private final String slice;
  private final int tailRows;
  private final @Nullable TrafficSlices names;
  private final Map<String, LiveWindow> bySlice = new LinkedHashMap<>();
  private long paired;
  private long flips;
  private double cosineSum;
  private double cosineMin = Double.NaN;
  private float[] cosines = new float[64];
  private int kept;
  private final SplittableRandom sampler = new SplittableRandom(20_260_413L);
  private @Nullable Map<String, Double> tail;
  private long tailAt = -1;
  private double signal;
  private double noise;
  private long candidateRequests;
  private long candidateErrors;
  private long baselineRequests;
  private long baselineErrors;
  private final Histogram candidateLatency;
  private final Histogram baselineLatency;
  private @Nullable DriftFigures drift;

  /** A window over all paired rows, without per-slice figures. */
  public LiveWindow(ModelKey candidate, ModelKey baseline) {
    this(candidate, baseline, "all", TAIL_ROWS, 3, null);
  }

  /** A window that also keeps figures per slice tag, for the names {@code slices} admits. */
  LiveWindow(ModelKey candidate, ModelKey baseline, TrafficSlices slices) {
    this(candidate, baseline, "all", TAIL_ROWS, 3, slices);
  }

  private LiveWindow(
      ModelKey candidate,
      ModelKey baseline,
      String slice,
      int tailRows,
      int latencyDigits,
      @Nullable TrafficSlices names) {
    this.candidate = candidate;
    this.baseline = baseline;
    this.slice = slice;
    this.tailRows = tailRows;
    this.names = names;
    this.candidateLatency = new Histogram(MAX_MICROS, latencyDigits);
    this.baselineLatency = new Histogram(MAX_MICROS, latencyDigits);
  }

  /**
   * Adds one exchange; exchanges that did not run the candidate or the baseline change nothing. A
   * tagged exchange also goes to its slice's window.
   */
  public synchronized void add(Exchange e) {
    Outcome c = outcome(e, candidate);
    Outcome b = outcome(e, baseline);
    if (c == null && b == null) {
      return; // another model's: it takes no slice name either
    }
    if (names != null && e.slice() != null) {
      bySlice
          .computeIfAbsent(
              names.admit(e.slice()),
              s -> new LiveWindow(candidate, baseline, s, SLICE_TAIL_ROWS, 2, null))
          .add(e);
    }
    if (c != null) {
      candidateRequests++;
      candidateErrors += c instanceof Outcome.Failure ? 1 : 0;
    }
    if (b != null) {
      baselineRequests++;
      baselineErrors += b instanceof Outcome.Failure ? 1 : 0;
    }
    if (c instanceof Outcome.Success cs && b instanceof Outcome.Success bs) {
      if (compare(e.inputs(), cs.outputs(), bs.outputs())) {
        candidateLatency.recordValue(Math.min(MAX_MICROS, Math.max(0, c.nanos() / 1000)));
        baselineLatency.recordValue(Math.min(MAX_MICROS, Math.max(0, b.nanos() / 1000)));
      }
    }
  }

  private static @Nullable Outcome outcome(Exchange e, ModelKey key) {
    if (e.primary().key().equals(key)) {
      return e.primary();
    }
    return e.shadow() != null && e.shadow().key().equals(key) ? e.shadow() : null;
  }

  /** Compares the first output both returned, row by row; false when there is none to compare. */
  private boolean compare(
      Map<String, Tensor> inputs, Map<String, Tensor> cand, Map<String, Tensor> base) {
    for (Map.Entry<String, Tensor> o : cand.entrySet()) {
      Tensor b = base.get(o.getKey());
      Tensor c = o.getValue();
      if (b == null || !Arrays.equals(b.shape(), c.shape())) {
        continue;
      }
      float[] cf;
      float[] bf;
      int rows;
      try {
        if (c.shape().length == 3) {
          Batch batch = Batch.of(inputs);
          Embeddings ce = Pooling.MEAN.embed(batch, c, o.getKey(), true);
          Embeddings be = Pooling.MEAN.embed(batch, b, o.getKey(), true);
          cf = ce.vectors();
          bf = be.vectors();
          rows = ce.rows();
        } else {
          cf = c.floats();
          bf = b.floats();
          rows = c.shape().length >= 2 ? (int) c.shape()[0] : 1;
        }
      } catch (RuntimeException notComparable) {
        continue;
      }
      if (rows == 0 || cf.length % rows != 0) {
        continue;
      }
      int width = cf.length / rows;
      for (int r = 0; r < rows; r++) {
        row(cf, bf, r * width, width);
      }
      return true;
    }
    return false;
  }

  private void row(float[] c, float[] b, int from, int width) {
    TensorAgreement.Sums s = TensorAgreement.sums(b, c, from, width);
    int argC = from;
    int argB = from;
    for (int i = from; i < from + width; i++) {
      argC = c[i] > c[argC] ? i : argC;
      argB = b[i] > b[argB] ? i : argB;
    }
    double cos = s.cosine();
    paired++;
    flips += argC != argB ? 1 : 0;
    cosineSum += cos;
    cosineMin = Double.isNaN(cosineMin) ? cos : Math.min(cosineMin, cos);
    signal += s.xx();
    noise += s.noise();
    keep((float) cos);
  }

  /** Keeps the row's cosine for the tail: all of the first rows, then a uniform sample. */
  private void keep(float cos) {
    if (kept < tailRows) {
      if (kept == cosines.length) {
        cosines = Arrays.copyOf(cosines, Math.min(tailRows, kept * 2));
      }
      cosines[kept++] = cos;
      return;
    }
    long j = sampler.nextLong(paired);
    if (j < tailRows) {
      cosines[(int) j] = cos;
    }
  }

  /** The cosine's tail metrics over the paired rows (NaN before the first). */
  synchronized Map<String, Double> tail() {
    if (tailAt != paired || tail == null) {
      tail = CosineTail.of(cosines, kept);
      tailAt = paired;
    }
    return tail;
  }

  /** The latest closed drift window, which rules on the drift keys are judged on. */
  public synchronized void drift(DriftFigures figures) {
    this.drift = figures;
  }

  /** Paired rows so far: what {@code min_samples} counts. */
  public synchronized long paired() {
    return paired;
  }

  /** Requests the candidate ran, answered or not. */
  public synchronized long candidateRequests() {
    return candidateRequests;
  }

  /** The slice this window measures: {@code all}, or a slice tag (or {@code other}). */
  public String slice() {
    return slice;
  }

  /** The window of each slice tag seen so far, in order of arrival. */
  public synchronized Map<String, LiveWindow> bySlice() {
    return new LinkedHashMap<>(bySlice);
  }

  /** Every metric with its value, for decisions and logs (null where nothing was measured). */
  public synchronized Map<String, Object> summary() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("paired_samples", paired);
    m.put("candidate_requests", candidateRequests);
    m.put("baseline_requests", baselineRequests);
    for (String metric : METRICS) {
      Measure x = find(candidate.toString(), "all", metric).orElseThrow();
      m.put(metric, x.value());
      if (x.baseline() != null) {
        m.put(metric + "_baseline", x.baseline());
      }
    }
    if (drift != null) {
      m.put("drift_samples", drift.samples());
      for (String metric : DriftMonitor.METRICS) {
        m.put(metric, find(candidate.toString(), "all", metric).orElseThrow().value());
      }
    }
    if (names != null) {
      Map<String, Object> slices = new LinkedHashMap<>();
      bySlice.forEach((name, w) -> slices.put(name, w.summary()));
      m.put("slices", slices);
    }
    return m;
  }

  @Override
  public String source() {
    return "the live window of "
        + candidate
        + " against "
        + baseline
        + (slice.equals("all") ? "" : " on slice " + slice);
  }

  @Override
  public String task() {
    return "live comparison";
  }

  @Override
  public List<String> candidates() {
    return List.of(candidate.toString());
  }

  @Override
  public synchronized List<Slice> slices(String c) {
    return c.equals(candidate.toString()) ? List.of(new Slice("all", paired)) : List.of();
  }

  @Override
  public synchronized Optional<Measure> find(String c, String slice, String metric) {
    if (!c.equals(candidate.toString()) || !slice.equals("all")) {
      return Optional.empty();
    }
    boolean any = paired > 0;
    if (TAIL.contains(metric)) {
      return Optional.of(
          versus(
              metric,
              metric.startsWith("cosine_p"),
              any ? finite(tail().getOrDefault(metric, Double.NaN)) : null));
    }
    return Optional.ofNullable(
        switch (metric) {
          case "flip_rate" -> versus(metric, false, any ? (double) flips / paired : null);
          case "cosine_mean" -> versus(metric, true, any ? cosineSum / paired : null);
          case "cosine_min" -> versus(metric, true, any ? cosineMin : null);
          case "sqnr_db" ->
              versus(
                  metric,
                  true,
                  !any
                      ? null
                      : noise == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(signal / noise));
          case "error_rate" ->
              absolute(
                  metric,
                  candidateRequests == 0 ? null : (double) candidateErrors / candidateRequests,
                  baselineRequests == 0 ? null : (double) baselineErrors / baselineRequests);
          case "latency_p50" -> latency(metric, 50);
          case "latency_p95" -> latency(metric, 95);
          case "latency_p99" -> latency(metric, 99);
          case "drift_share" -> absolute(metric, drift == null ? null : drift.driftShare(), null);
          case "psi" -> absolute(metric, drift == null ? null : finite(drift.psi()), null);
          case "overflow_rate" ->
              absolute(metric, drift == null ? null : finite(drift.overflowRate()), null);
          default -> null;
        });
  }

  private static @Nullable Double finite(double x) {
    return Double.isFinite(x) ? x : null;
  }

  private Measure latency(String metric, double percentile) {
    if (candidateLatency.getTotalCount() == 0) {
      return absolute(metric, null, null);
    }
    return absolute(
        metric,
        candidateLatency.getValueAtPercentile(percentile) / 1000.0,
        baselineLatency.getValueAtPercentile(percentile) / 1000.0);
  }

  private static Measure versus(String metric, boolean higherIsBetter, @Nullable Double value) {
    return new Measure(
        metric,
        Measure.Source.FIGURE,
        higherIsBetter,
        true,
        value,
        null,
        null,
        null,
        null,
        null,
        null);
  }

  /** Lower is better for error rates and latencies. */
  private static Measure absolute(
      String metric, @Nullable Double value, @Nullable Double baseline) {
    Double delta = value == null || baseline == null ? null : value - baseline;
    return new Measure(
        metric,
        Measure.Source.FIGURE,
        false,
        false,
        value,
        null,
        null,
        baseline,
        delta,
        null,
        null);
  }

  @Override
  public List<String> metrics() {
    List<String> all = new ArrayList<>(METRICS);
    all.addAll(DriftMonitor.METRICS);
    return all;
  }
}

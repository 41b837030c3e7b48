package io.quantguard.serve;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.jspecify.annotations.Nullable;

/**
 * The recent past of the server's traffic, for the dashboard ({@code GET /v2/timeline}): one point
 * per second per served version (requests answered, errors, rows run, latency p50/p95/p99) and per
 * rollout (the live window's paired samples, cosine and flip rate), each series a ring of the last
 * {@link #CAPACITY} seconds. Fed from the same calls that feed the Prometheus meters; memory is
 * bounded by the served versions, never by clients.
 */
final class TrafficTimeline implements AutoCloseable {
  /** Ten minutes of one-second points. */
  static final int CAPACITY = 600;

  private static final long MAX_LATENCY_US = TimeUnit.MINUTES.toMicros(10);

  /** One second of one version. */
  record Point(
      long at,
      long requests,
      long errors,
      long rows,
      @Nullable Double p50,
      @Nullable Double p95,
      @Nullable Double p99) {}

  /** One second of a rollout's live window. */
  record QualityPoint(
      long at, long paired, @Nullable Double cosineMean, @Nullable Double flipRate) {}

  /** What is being counted in the current second for one version. */
  private static final class Current {
    final Recorder latency = new Recorder(MAX_LATENCY_US, 3);
    final LongAdder requests = new LongAdder();
    final LongAdder errors = new LongAdder();
    final LongAdder rows = new LongAdder();
    final ArrayDeque<Point> points = new ArrayDeque<>();
    @Nullable Histogram spare;
  }

  private final Map<ModelKey, Current> versions = new ConcurrentHashMap<>();
  private final @Nullable RolloutController rollout;
  private final ArrayDeque<QualityPoint> quality = new ArrayDeque<>();
  private @Nullable ScheduledExecutorService clock;

  TrafficTimeline(@Nullable RolloutController rollout) {
    this.rollout = rollout;
  }

  /** An inference request answered (any status) by {@code key}. */
  void request(ModelKey key, int status, long nanos) {
    Current c = versions.computeIfAbsent(key, k -> new Current());
    c.requests.increment();
    if (status >= 400) {
      c.errors.increment();
    } else {
      c.latency.recordValue(Math.min(MAX_LATENCY_US, Math.max(0, nanos / 1000)));
    }
  }

  /** Rows run by {@code key}: its throughput, shadow runs included. */
  void rows(ModelKey key, int rows) {
    versions.computeIfAbsent(key, k -> new Current()).rows.add(rows);
  }

  /** Starts the one-second clock. */
  synchronized void start() {
    if (clock != null) {
      return;
    }
    clock =
        DaemonClock.every(
            "quantguard-timeline", Duration.ofSeconds(1), () -> tick(System.currentTimeMillis()));
  }

  /** Closes the current second of every series at {@code now} (epoch milliseconds). */
  void tick(long now) {
    for (Current c : versions.values()) {
      Histogram h = c.latency.getIntervalHistogram(c.spare);
      c.spare = h;
      boolean any = h.getTotalCount() > 0;
      Point p =
          new Point(
              now,
              c.requests.sumThenReset(),
              c.errors.sumThenReset(),
              c.rows.sumThenReset(),
              any ? ms(h, 50) : null,
              any ? ms(h, 95) : null,
              any ? ms(h, 99) : null);
      synchronized (c.points) {
        append(c.points, p);
      }
    }
    if (rollout != null) {
      Map<String, Object> w = rollout.windowSummary();
      QualityPoint q =
          new QualityPoint(
              now,
              ((Number) w.getOrDefault("paired_samples", 0L)).longValue(),
              number(w.get("cosine_mean")),
              number(w.get("flip_rate")));
      synchronized (quality) {
        append(quality, q);
      }
    }
  }

  private static <T> void append(ArrayDeque<T> ring, T p) {
    if (ring.size() == CAPACITY) {
      ring.removeFirst();
    }
    ring.addLast(p);
  }

  private static double ms(Histogram h, double percentile) {
    return h.getValueAtPercentile(percentile) / 1000.0;
  }

  private static @Nullable Double number(@Nullable Object o) {
    return o instanceof Number n && Double.isFinite(n.doubleValue()) ? n.doubleValue() : null;
  }

  /**
   * The series, columns per version ({@code model}, {@code version}, {@code role}, then arrays
   * {@code t}, {@code requests_per_s}, {@code errors_per_s}, {@code rows_per_s}, {@code p50_ms},
   * {@code p95_ms}, {@code p99_ms}) and per rollout; only {@code model} when it is not null.
   */
  Map<String, Object> json(@Nullable String model) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("interval_ms", 1000);
    out.put("capacity", CAPACITY);
    List<Map<String, Object>> list = new ArrayList<>();
    for (Map.Entry<ModelKey, Current> e : new TreeMap<>(versions).entrySet()) {
      ModelKey k = e.getKey();
      if (model != null && !k.name().equals(model)) {
        continue;
      }
      List<Point> points;
      synchronized (e.getValue().points) {
        points = List.copyOf(e.getValue().points);
      }
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("model", k.name());
      v.put("version", k.version());
      v.put("role", role(k));
      v.put("t", points.stream().map(Point::at).toList());
      v.put("requests_per_s", points.stream().map(Point::requests).toList());
      v.put("errors_per_s", points.stream().map(Point::errors).toList());
      v.put("rows_per_s", points.stream().map(Point::rows).toList());
      v.put("p50_ms", nullable(points, Point::p50));
      v.put("p95_ms", nullable(points, Point::p95));
      v.put("p99_ms", nullable(points, Point::p99));
      list.add(v);
    }
    out.put("versions", list);
    List<Map<String, Object>> rollouts = new ArrayList<>();
    if (rollout != null && (model == null || rollout.candidate().name().equals(model))) {
      List<QualityPoint> q;
      synchronized (quality) {
        q = List.copyOf(quality);
      }
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("model", rollout.candidate().name());
      r.put("candidate", rollout.candidate().version());
      r.put("baseline", rollout.baseline().version());
      r.put("t", q.stream().map(QualityPoint::at).toList());
      r.put("paired", q.stream().map(QualityPoint::paired).toList());
      r.put("cosine_mean", nullable(q, QualityPoint::cosineMean));
      r.put("flip_rate", nullable(q, QualityPoint::flipRate));
      rollouts.add(r);
    }
    out.put("rollouts", rollouts);
    return out;
  }

  private String role(ModelKey k) {
    if (rollout == null) {
      return "served";
    }
    if (k.equals(rollout.candidate())) {
      return "candidate";
    }
    return k.equals(rollout.baseline()) ? "baseline" : "served";
  }

  /** A column that may hold nulls (seconds without a request have no percentile). */
  private static <T> List<@Nullable Double> nullable(
      List<T> points, java.util.function.Function<T, @Nullable Double> f) {
    List<@Nullable Double> out = new ArrayList<>(points.size());
    for (T p : points) {
      out.add(f.apply(p));
    }
    return out;
  }

  @Override
  public synchronized void close() {
    if (clock != null) {
      clock.shutdownNow();
      clock = null;
    }
  }
}

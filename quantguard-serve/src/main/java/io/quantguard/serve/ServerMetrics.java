package io.quantguard.serve;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.quantguard.evaluate.bench.ResidentMemory;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The server's metrics, in Prometheus' text format at {@code GET /metrics}. Every name starts with
 * {@code quantguard_}; the README lists them. Model and version labels only ever carry served
 * models (a request for an unknown name is counted under {@code model=""}), so a client cannot grow
 * the label set.
 */
final class ServerMetrics {
  /** Prometheus' text exposition format, version 0.0.4. */
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private static final Duration[] LATENCY_BUCKETS = {
    Duration.ofMillis(1),
    Duration.ofMillis(2),
    Duration.ofMillis(5),
    Duration.ofMillis(10),
    Duration.ofMillis(20),
    Duration.ofMillis(50),
    Duration.ofMillis(100),
    Duration.ofMillis(200),
    Duration.ofMillis(500),
    Duration.ofSeconds(1),
    Duration.ofSeconds(2),
    Duration.ofSeconds(5)
  };

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Counter droppedObservations;
  private final TrafficTimeline timeline;

  /**
   * The meters recorded on every request and model run, looked up once: building a meter's id (tags
   * sorted, buckets set) and finding it in the registry cost more than recording in it.
   */
  private final Map<DurationKey, Timer> durations = new ConcurrentHashMap<>();

  private final Map<ModelKey, BatchMeters> batches = new ConcurrentHashMap<>();

  private record DurationKey(String model, String version, String outcome) {}

  private record BatchMeters(DistributionSummary rows, Counter requests, Counter inferences) {}

  /** {@code timeline} gets every request and model run too, for the dashboard. */
  ServerMetrics(TrafficTimeline timeline) {
    this.timeline = timeline;
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    Gauge.builder("quantguard.jvm.memory.used", memory, m -> m.getHeapMemoryUsage().getUsed())
        .tag("area", "heap")
        .baseUnit("bytes")
        .description("JVM heap in use")
        .register(registry);
    Gauge.builder("quantguard.jvm.memory.used", memory, m -> m.getNonHeapMemoryUsage().getUsed())
        .tag("area", "nonheap")
        .baseUnit("bytes")
        .description("JVM memory in use outside the heap")
        .register(registry);
    Gauge.builder("quantguard.process.resident.memory", () -> ResidentMemory.rss().orElse(-1))
        .baseUnit("bytes")
        .description(
            "resident set size (heap, ONNX Runtime's native memory, mapped models); -1 off Linux")
        .register(registry);
    droppedObservations =
        Counter.builder("quantguard.observations.dropped")
            .description("exchanges not observed because the observer fell behind")
            .register(registry);
  }

  /**
   * Records a finished request: its latency by model, version and outcome, and for a failed one an
   * error by status.
   *
   * @param key the served version it was routed to, or null when it never reached one
   */
  void request(String endpoint, @Nullable ModelKey key, int status, long nanos) {
    String model = key == null ? "" : key.name();
    String version = key == null ? "" : Integer.toString(key.version());
    if (endpoint.equals("infer")) {
      String outcome = outcome(status);
      durations
          .computeIfAbsent(
              new DurationKey(model, version, outcome),
              k ->
                  Timer.builder("quantguard.request.duration")
                      .description("inference requests from arrival to response, by outcome")
                      .tags("model", model, "version", version, "outcome", outcome)
                      .serviceLevelObjectives(LATENCY_BUCKETS)
                      .register(registry))
          .record(nanos, TimeUnit.NANOSECONDS);
      if (key != null) {
        timeline.request(key, status, nanos);
      }
    }
    if (status >= 400) {
      Counter.builder("quantguard.errors")
          .description("requests answered with an error, by status")
          .tags(
              "endpoint",
              endpoint,
              "model",
              model,
              "version",
              version,
              "status",
              Integer.toString(status),
              "type",
              errorType(status))
          .register(registry)
          .increment();
    }
  }

  /** Records one run of a version: how many requests it stacked and how many rows they had. */
  void batch(ModelKey key, int requests, int rows) {
    BatchMeters m = batches.computeIfAbsent(key, this::batchMeters);
    m.rows().record(rows);
    m.requests().increment(requests);
    m.inferences().increment(rows);
    timeline.rows(key, rows);
  }

  private BatchMeters batchMeters(ModelKey key) {
    String[] tags = {"model", key.name(), "version", Integer.toString(key.version())};
    return new BatchMeters(
        DistributionSummary.builder("quantguard.batch.rows")
            .description("rows per model run (after dynamic batching)")
            .tags(tags)
            .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256)
            .register(registry),
        Counter.builder("quantguard.batch.requests")
            .description("requests run, counted per model run")
            .tags(tags)
            .register(registry),
        Counter.builder("quantguard.inferences")
            .description("rows (samples) inferred")
            .tags(tags)
            .register(registry));
  }

  /**
   * Publishes a version's queue depth until {@link #remove} is called with the gauge. A reload
   * opens the version's new batcher before the old one stops: the new queue takes the gauge over,
   * since a registry keeps the first gauge of a name and tags and would go on reading the old
   * queue.
   */
  synchronized Gauge queue(ModelKey key, IntSupplier depth) {
    String[] tags = {"model", key.name(), "version", Integer.toString(key.version())};
    Gauge before = registry.find("quantguard.queue.depth").tags(tags).gauge();
    if (before != null) {
      registry.remove(before);
    }
    return Gauge.builder("quantguard.queue.depth", depth::getAsInt)
        .description("requests waiting for a model run")
        .tags(tags)
        .register(registry);
  }

  /** Removes a queue's gauge, unless a newer queue of the same version took it over. */
  synchronized void remove(Gauge gauge) {
    if (registry.find(gauge.getId().getName()).tags(gauge.getId().getTags()).gauge() == gauge) {
      registry.remove(gauge);
    }
  }

  void droppedObservation() {
    droppedObservations.increment();
  }

  /** The meter registry, for components that add their own meters (the rollout's). */
  io.micrometer.core.instrument.MeterRegistry registry() {
    return registry;
  }

  String scrape() {
    return registry.scrape();
  }

  private static String outcome(int status) {
    if (status < 400) {
      return "success";
    } else if (status == 429 || status == 503) {
      return "rejected";
    }
    return status < 500 ? "client_error" : "server_error";
  }

  private static String errorType(int status) {
    return switch (status) {
      case 400 -> "bad_request";
      case 401 -> "unauthorized";
      case 404 -> "not_found";
      case 405 -> "method_not_allowed";
      case 413 -> "too_large";
      case 415 -> "unsupported_media_type";
      case 429 -> "queue_full";
      case 503 -> "unavailable";
      default -> status >= 500 ? "internal" : "client_error";
    };
  }
}

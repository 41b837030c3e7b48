package io.quantguard.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.evaluate.drift.DriftResult;
import io.quantguard.registry.Registry;
import io.quantguard.report.CalibrationCoverage;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A drift monitor's closed windows kept in the registry, so that a restarted server resumes its
 * history (and with it the attribution and the latest window the gauges and a rollout's policy
 * read) instead of starting blind. Each window is one JSON document; the registry keeps the newest
 * {@code history} of them. Keeping is best effort: a registry that cannot be written to costs the
 * restart its history, never a window or a request.
 */
final class KeptWindows {
  private static final Logger LOG = LoggerFactory.getLogger(KeptWindows.class);
  private static final String SCHEMA = "quantguard.drift-window/1";
  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  /** What is written: the closed window, its times as ISO-8601 instants. */
  record Stored(
      String schema,
      String from,
      String to,
      DriftResult drift,
      CalibrationCoverage.@Nullable Slice overflow,
      @Nullable Double cosine,
      @Nullable Double flipRate,
      long paired,
      @Nullable Map<String, Double> tail) {}

  private final Registry registry;
  private final String model;
  private final int keep;

  KeptWindows(Registry registry, String model, int keep) {
    this.registry = registry;
    this.model = model;
    this.keep = keep;
  }

  void keep(DriftMonitor.Closed c) {
    try {
      String json =
          JSON.writeValueAsString(
              new Stored(
                  SCHEMA,
                  c.from().toString(),
                  c.to().toString(),
                  c.drift(),
                  c.overflow(),
                  c.cosine(),
                  c.flipRate(),
                  c.paired(),
                  c.tail()));
      registry.keepDriftWindow(model, json, keep);
    } catch (JsonProcessingException | RuntimeException e) {
      LOG.warn("the drift window of {} could not be kept in the registry", model, e);
    }
  }

  /** The windows kept for the model, oldest first; one that cannot be read is skipped. */
  List<DriftMonitor.Closed> load() {
    List<DriftMonitor.Closed> out = new ArrayList<>();
    List<String> kept;
    try {
      kept = registry.driftWindows(model, keep);
    } catch (RuntimeException e) {
      LOG.warn("the kept drift windows of {} could not be read; starting without", model, e);
      return out;
    }
    for (String json : kept) {
      try {
        Stored s = JSON.readValue(json, Stored.class);
        if (!SCHEMA.equals(s.schema())) {
          continue;
        }
        out.add(
            new DriftMonitor.Closed(
                Instant.parse(s.from()),
                Instant.parse(s.to()),
                s.drift(),
                s.overflow(),
                s.cosine(),
                s.flipRate(),
                s.paired(),
                s.tail() == null ? Map.of() : s.tail()));
      } catch (JsonProcessingException | java.time.format.DateTimeParseException e) {
        LOG.warn("a kept drift window of {} is unreadable and skipped: {}", model, e.getMessage());
      }
    }
    return out;
  }
}

package io.quantguard.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.javalin.config.RoutesConfig;
import io.javalin.http.NotFoundResponse;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * {@code GET /v2/models/NAME/drift}: the latest closed drift window of a watched model (per feature
 * every test's score, the deciding one and whether it drifted; the overflow rate per tensor and the
 * samples that clipped most; the paired quality), the thresholds (the tests' and the policy's rules
 * on the drift keys), the history of closed windows and the attribution. Read-only, so open like
 * the model metadata.
 */
final class DriftEndpoints {
  private final Map<String, DriftMonitor> monitors;

  DriftEndpoints(Map<String, DriftMonitor> monitors) {
    this.monitors = monitors;
  }

  void register(RoutesConfig r) {
    r.get(
        "/v2/models/{name}/drift",
        ctx -> {
          String name = ctx.pathParam("name");
          DriftMonitor m = monitors.get(name);
          if (m == null) {
            throw new NotFoundResponse(
                "the server does not watch '"
                    + (name.length() > 64 ? name.substring(0, 64) + "..." : name)
                    + "' for drift; it watches "
                    + String.join(", ", monitors.keySet()));
          }
          try {
            ctx.contentType("application/json")
                .result(OipCodec.JSON.writeValueAsBytes(Map.of("drift", m.status())));
          } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
          }
        });
  }
}

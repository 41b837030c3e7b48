package io.quantguard.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The live dashboard the server serves itself: {@code GET /dashboard} (every model) and {@code
 * /dashboard/NAME} (one), a static page with its script and ECharts from the jar (no network), that
 * polls {@code GET /v2/timeline} (latency and throughput per version, live quality, one point a
 * second for ten minutes), {@code GET /v2/dashboard} (served versions, the rollout's state and
 * recorded decisions, the watched models, the variant choice) and {@code GET
 * /v2/models/NAME/variants} and {@code GET /v2/models/NAME/drift}. Read-only, so open like the
 * metadata; the page writes every string as text, and its Content-Security-Policy allows no inline
 * script, so a model name cannot run in it.
 */
final class DashboardEndpoints {
  private static final String ECHARTS =
      "META-INF/resources/webjars/echarts/5.3.1/dist/echarts.min.js";
  private static final String CSP =
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
          + " img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";
  private static final int HISTORY = 200;

  private final TrafficTimeline timeline;
  private final @Nullable RolloutController rollout;
  private final Set<String> watched;
  private final Map<String, VariantSelector> adaptive;
  private final Supplier<Set<ModelKey>> served;
  private final Map<String, byte[]> assets = new java.util.concurrent.ConcurrentHashMap<>();

  DashboardEndpoints(
      TrafficTimeline timeline,
      @Nullable RolloutController rollout,
      Set<String> watched,
      Map<String, VariantSelector> adaptive,
      Supplier<Set<ModelKey>> served) {
    this.timeline = timeline;
    this.rollout = rollout;
    this.watched = Set.copyOf(watched);
    this.adaptive = Map.copyOf(adaptive);
    this.served = served;
  }

  void register(RoutesConfig r) {
    r.get("/dashboard", this::page);
    r.get(
        "/dashboard/echarts.min.js", ctx -> asset(ctx, ECHARTS, "text/javascript; charset=utf-8"));
    r.get(
        "/dashboard/dashboard.js",
        ctx -> asset(ctx, "io/quantguard/serve/dashboard.js", "text/javascript; charset=utf-8"));
    r.get("/dashboard/{model}", this::page);
    r.get("/v2/timeline", ctx -> json(ctx, timeline.json(ctx.queryParam("model"))));
    r.get("/v2/dashboard", ctx -> json(ctx, overview()));
    r.get(
        "/v2/models/{name}/variants",
        ctx -> {
          VariantSelector v = adaptive.get(ctx.pathParam("name"));
          if (v == null) {
            throw new io.javalin.http.NotFoundResponse(
                "model '" + ctx.pathParam("name") + "' has no latency objective");
          }
          json(ctx, v.status());
        });
  }

  private void page(Context ctx) {
    ctx.header("Content-Security-Policy", CSP);
    ctx.header("X-Content-Type-Options", "nosniff");
    asset(ctx, "io/quantguard/serve/dashboard.html", "text/html; charset=utf-8");
  }

  /**
   * Served versions, the rollout (status and recorded decisions), the models watched for drift, and
   * the variant choice of every model with a latency objective (active variant, ladder, switches).
   */
  private Map<String, Object> overview() {
    Map<String, Object> m = new LinkedHashMap<>();
    List<Map<String, Object>> models = new ArrayList<>();
    for (ModelKey k : served.get()) {
      models.add(Map.of("model", k.name(), "version", k.version()));
    }
    m.put("models", models);
    List<Map<String, Object>> rollouts = new ArrayList<>();
    if (rollout != null) {
      Map<String, Object> s = new LinkedHashMap<>(rollout.status());
      s.put("history", rollout.history(HISTORY));
      rollouts.add(s);
    }
    m.put("rollouts", rollouts);
    m.put("drift", watched.stream().sorted().toList());
    m.put(
        "variants",
        adaptive.values().stream()
            .sorted(java.util.Comparator.comparing(VariantSelector::model))
            .map(VariantSelector::status)
            .toList());
    return m;
  }

  private void asset(Context ctx, String name, String type) {
    byte[] bytes = assets.computeIfAbsent(name, DashboardEndpoints::read);
    ctx.header("Cache-Control", "no-cache");
    ctx.contentType(type).result(bytes);
  }

  private static byte[] read(String name) {
    try (InputStream in = DashboardEndpoints.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(name + " is missing from the class path");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void json(Context ctx, Object value) {
    try {
      ctx.contentType("application/json").result(OipCodec.JSON.writeValueAsBytes(value));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}

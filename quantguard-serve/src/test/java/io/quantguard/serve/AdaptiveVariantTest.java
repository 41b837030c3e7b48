package io.quantguard.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.registry.Action;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.ChangeLogEntry;
import io.quantguard.registry.Registration;
import io.quantguard.registry.Registry;
import io.quantguard.registry.Stage;
import io.quantguard.runtime.data.DataSpec;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Latency-aware variant choice on the Fashion-MNIST CNN under a load step: FP32 (home), the static
 * int8 from the default recipe, and a dynamic int8 whose latest audit failed (never chosen, however
 * fast). The objective is derived from the FP32 latency measured at the start of the test, between
 * its p95 under light load (one client pausing 10 ms) and at 64 clients (four images a request), so
 * the test holds on a slow or a fast machine.
 */
class AdaptiveVariantTest {
  private static final int HIGH = 64;

  /** The load step: twice the clients the objective was derived at, so it breaks however warm. */
  private static final int STEP = 2 * HIGH;

  private static final int ROWS = 4;

  @TempDir static Path models;
  private static Path staticInt8;
  private static Path dynamicInt8;

  @TempDir Path tmp;

  @BeforeAll
  static void quantize() {
    Path cnn = TestModels.fashionCnn();
    String train = "idx:" + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz");
    staticInt8 = models.resolve("cnn-int8-static.onnx");
    ModelIO.save(
        Quantizer.quantize(
                ModelIO.load(cnn),
                Recipe.defaults(),
                DataSpec.parse(train + "?input=image&limit=256"),
                Quantizer.Options.defaults())
            .model(),
        staticInt8);
    dynamicInt8 = models.resolve("cnn-int8-dynamic.onnx");
    ModelIO.save(
        Quantizer.quantize(
                ModelIO.load(cnn),
                Recipe.defaults(Recipe.Mode.DYNAMIC),
                null,
                Quantizer.Options.defaults())
            .model(),
        dynamicInt8);
  }

  private static ServerConfig config() {
    return ServerConfig.defaults()
        .withPort(0)
        .withThreads(2)
        .withBatching(new BatchPolicy(16, Duration.ofMillis(1), 1024));
  }

  private static List<LoadGenerator.Call> calls() {
    List<LoadGenerator.Call> calls = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      calls.add(
          new LoadGenerator.Call(
              RequestBody.binary(null, Map.of("image", Responses.images(ROWS, i)), false), 200));
    }
    return calls;
  }

  /** {@code clients} clients sending as fast as they are answered. */
  private static LoadGenerator.Result load(InferenceServer server, int clients, long millis) {
    return run(server, clients, millis, Duration.ZERO);
  }

  /**
   * Light load: one client, 50 ms between an answer and its next request, under 20 requests a
   * second: fewer than a window's minimum, so the windows are quiet.
   */
  private static LoadGenerator.Result light(InferenceServer server, long millis) {
    return run(server, 1, millis, Duration.ofMillis(50));
  }

  private static LoadGenerator.Result run(
      InferenceServer server, int clients, long millis, Duration pause) {
    return LoadGenerator.run(
        new LoadGenerator.Plan(
            URI.create(server.url() + "/v2/models/cnn/infer"),
            calls(),
            clients,
            Duration.ofMillis(100),
            Duration.ofMillis(millis),
            pause));
  }

  @Test
  void aLoadStepMovesTrafficToTheFasterVariantAndBack() throws Exception {
    Registry registry = Registry.open(tmp.resolve("registry").toString());
    registry.register(
        new Registration(TestModels.fashionCnn(), "cnn", null, null, null, "fp32", "test"));
    registry.promote(ArtifactRef.of("cnn", 1), Stage.PRODUCTION, "the FP32 model", "test");
    registry.register(new Registration(staticInt8, "cnn", "cnn@1", null, null, "static", "test"));
    registry.register(new Registration(dynamicInt8, "cnn", "cnn@1", null, null, "dynamic", "test"));
    registry.recordAudit(
        ArtifactRef.of("cnn", 3),
        false,
        "0".repeat(64),
        "flip rate on current data",
        Map.of(),
        "t");

    // The FP32 model alone, light and at 64 clients. The objective is the geometric mean of the
    // light median and the p95 at 64 clients: well above what one client waits, well below the p95
    // at the step (128 clients, about twice the p95 at 64 once saturated). Medians, not tails, of
    // the light load: on the shared machine its p95 is mostly scheduling noise. The light load's
    // windows are quiet, which is how "load fell" shows here; the rate-and-latency exit is
    // checked window by window in VariantSelectorTest.
    LoadGenerator.Result fp32Low;
    LoadGenerator.Result fp32High;
    try (InferenceServer plain =
        InferenceServer.builder()
            .config(config())
            .model(new ModelSource.Registered(registry, ArtifactRef.of("cnn", 1)))
            .build()
            .start()) {
      // Warm up the JIT (HTTP, codec, batcher) first: a cold JVM inflates both p95s.
      load(plain, HIGH, 3000);
      light(plain, 500);
      fp32Low = light(plain, 1500);
      fp32High = load(plain, HIGH, 2000);
    }
    double low = fp32Low.latency().p50Ms();
    double high = fp32High.latency().p95Ms();
    assertThat(high)
        .as(
            "%d clients must queue: FP32 p50 %.2f ms at 1 client, p95 %.2f ms at %d",
            HIGH, low, high, HIGH)
        .isGreaterThan(4 * low);
    double limit = Math.sqrt(low * high);
    LatencyObjective objective =
        LatencyObjective.parse(String.format(Locale.ROOT, "p95<=%.3fms", limit));
    AdaptiveSettings settings =
        AdaptiveSettings.of(objective)
            .withWindow(Duration.ofMillis(500))
            .withMinSamples(20)
            .withPatience(2)
            .withDwell(Duration.ofSeconds(2))
            .withExitShare(0.6);
    VariantSelector selector = new VariantSelector("cnn", settings, "adaptive-test");

    try (InferenceServer server =
        InferenceServer.builder()
            .config(config())
            .model(new ModelSource.Registered(registry, ArtifactRef.of("cnn", 1)))
            .model(new ModelSource.Registered(registry, ArtifactRef.of("cnn", 2)))
            .model(new ModelSource.Registered(registry, ArtifactRef.of("cnn", 3)))
            .adaptive(selector)
            .build()
            .start()) {
      // The switch needs int8 measured faster than FP32 at start; on a loaded 2-core machine the
      // probe has once measured it no faster, and then leaving it out is the right answer.
      String refusedInt8 = selector.refused().getOrDefault(2, "");
      assumeTrue(
          !refusedInt8.contains("measured no faster"),
          "the start-up probe measured int8 no faster than FP32 here: " + refusedInt8);
      assertThat(selector.ladder())
          .extracting(v -> v.key().version())
          .as("probe %s", selector.ladder())
          .containsExactly(1, 2);
      assertThat(selector.refused()).containsKey(3);
      assertThat(selector.refused().get(3)).contains("audit");

      LoadGenerator.Result quiet = light(server, 2500);
      assertThat(selector.switches()).isEmpty();
      assertThat(selector.active()).contains(new ModelKey("cnn", 1));

      Instant stepUp = Instant.now();
      LoadGenerator.Result rising = load(server, STEP, 3000);
      LoadGenerator.Result busy = load(server, STEP, 3000);
      assertThat(selector.active()).as("%s", selector.status()).contains(new ModelKey("cnn", 2));

      Instant stepDown = Instant.now();
      LoadGenerator.Result falling = light(server, 4000);
      assertThat(selector.active()).as("%s", selector.status()).contains(new ModelKey("cnn", 1));
      LoadGenerator.Result after = light(server, 1500);

      for (LoadGenerator.Result r : List.of(quiet, rising, busy, falling, after)) {
        assertThat(r.unexpected()).as("%s", r.firstUnexpected()).isZero();
      }
      List<VariantSelector.Switch> switches = selector.switches();
      assertThat(switches).as("no flapping: %s", switches).hasSize(2);
      VariantSelector.Switch down = switches.get(0);
      VariantSelector.Switch up = switches.get(1);
      assertThat(down.direction()).isEqualTo("faster");
      assertThat(down.from()).isEqualTo(1);
      assertThat(down.to()).isEqualTo(2);
      assertThat(down.percentileMillis()).isGreaterThan(limit);
      assertThat(up.direction()).isEqualTo("slower");
      assertThat(up.to()).isEqualTo(1);
      assertThat(down.at()).isAfter(stepUp);
      assertThat(up.at()).isAfter(stepDown);

      String metrics = Http.get(server.url() + "/metrics").text();
      PrometheusText.check(metrics, tmp);
      assertThat(
              PrometheusText.value(
                  metrics,
                  "quantguard_variant_switches_total",
                  Map.of("model", "cnn", "direction", "faster")))
          .isEqualTo(1);
      assertThat(
              PrometheusText.value(
                  metrics,
                  "quantguard_variant_switches_total",
                  Map.of("model", "cnn", "direction", "slower")))
          .isEqualTo(1);
      assertThat(
              PrometheusText.value(
                  metrics, "quantguard_variant_active", Map.of("model", "cnn", "version", "1")))
          .isEqualTo(1);
      assertThat(
              PrometheusText.value(
                  metrics, "quantguard_variant_active", Map.of("model", "cnn", "version", "2")))
          .isZero();

      List<ChangeLogEntry> log = registry.log("cnn", Action.VARIANT, 10);
      assertThat(log).extracting(ChangeLogEntry::version).containsExactly(2, 1);
      assertThat(log).extracting(ChangeLogEntry::previousVersion).containsExactly(1, 2);
      assertThat(log.get(0).reason()).contains("breaks the objective");
      assertThat(log.get(1).reason()).contains("load fell");
      assertThat(log.get(0).actor()).isEqualTo("adaptive-test");

      JsonNode status = Http.get(server.url() + "/v2/models/cnn/variants").json();
      assertThat(status.path("active").asInt()).isEqualTo(1);
      assertThat(status.path("history")).hasSize(2);
      JsonNode dashboard = Http.get(server.url() + "/v2/dashboard").json();
      assertThat(dashboard.path("variants").get(0).path("switches").asInt()).isEqualTo(2);
      assertThat(Http.get(server.url() + "/v2/models/nope/variants").status()).isEqualTo(404);
      // The dashboard draws the same: the active variant, the one never chosen, both switches.
      java.util.Optional<Chromium> chromium = Chromium.find();
      if (chromium.isPresent()) {
        String dom = chromium.get().dumpDom(server.url() + "/dashboard/cnn", 8000);
        assertThat(dom)
            .contains("objective p95")
            .contains("<tr class=\"active\"><td>@1</td>")
            .contains("@3 never chosen: ")
            .contains("@1 → @2")
            .contains("@2 → @1")
            .contains("breaks the objective");
      } else {
        System.out.println("chromium is not installed: the dashboard's variants are not rendered");
      }

      // Side by side on one warm server, pinned versions, alternating: what each variant does at
      // the high load.
      Map<Integer, List<LoadGenerator.Result>> pinned = new java.util.TreeMap<>();
      for (int round = 0; round < 2; round++) {
        for (int v : new int[] {1, 2}) {
          pinned
              .computeIfAbsent(v, k -> new ArrayList<>())
              .add(
                  LoadGenerator.run(
                      new LoadGenerator.Plan(
                          URI.create(server.url() + "/v2/models/cnn/versions/" + v + "/infer"),
                          calls(),
                          HIGH,
                          Duration.ofMillis(300),
                          Duration.ofMillis(1500))));
        }
      }
      pinned.forEach(
          (v, rs) ->
              rs.forEach(
                  r ->
                      System.out.printf(
                          Locale.ROOT,
                          "  pinned v%d at %d clients: p95 %.2f ms, %.0f req/s, %d unexpected%n",
                          v,
                          HIGH,
                          r.latency().p95Ms(),
                          r.throughput(),
                          r.unexpected())));
      System.out.printf(
          Locale.ROOT,
          "adaptive: objective %s (FP32 p50 %.2f ms light, p95 %.2f ms at %d); probe %s%n"
              + "  FP32 alone at %d clients: p95 %.2f ms, %.0f req/s%n"
              + "  step up to %d clients: switch to int8 after %d ms (window p95 %.2f ms on %d requests);"
              + " rising phase p95 %.2f ms, %.0f req/s%n"
              + "  int8 at %d clients after the switch: p95 %.2f ms, %.0f req/s%n"
              + "  step down: back to FP32 after %d ms; 1 client p95 before %.2f ms, after %.2f"
              + " ms%n"
              + "  switches %d, errors %d%n",
          objective,
          low,
          high,
          HIGH,
          selector.ladder(),
          HIGH,
          fp32High.latency().p95Ms(),
          fp32High.throughput(),
          STEP,
          Duration.between(stepUp, down.at()).toMillis(),
          down.percentileMillis(),
          down.samples(),
          rising.latency().p95Ms(),
          rising.throughput(),
          STEP,
          busy.latency().p95Ms(),
          busy.throughput(),
          Duration.between(stepDown, up.at()).toMillis(),
          quiet.latency().p95Ms(),
          after.latency().p95Ms(),
          switches.size(),
          quiet.unexpected()
              + rising.unexpected()
              + busy.unexpected()
              + falling.unexpected()
              + after.unexpected());
    }
  }

  /**
   * A reload (the repository extension's load) opens the versions anew; the ladder is measured
   * again rather than kept: here the int8 variant failed an audit meanwhile, so the new ranking
   * refuses it, and home's probe is a new measurement.
   */
  @Test
  void aReloadProbesTheVariantsAgain() throws Exception {
    Registry registry = Registry.open(tmp.resolve("registry").toString());
    registry.register(
        new Registration(TestModels.fashionCnn(), "cnn", null, null, null, "fp32", "test"));
    registry.register(new Registration(staticInt8, "cnn", "cnn@1", null, null, "static", "test"));
    VariantSelector selector =
        new VariantSelector(
            "cnn", AdaptiveSettings.of(LatencyObjective.parse("p95<=50ms")), "adaptive-test");
    try (InferenceServer server =
        InferenceServer.builder()
            .config(config())
            .model(new ModelSource.Registered(registry, ArtifactRef.of("cnn", 1)))
            .model(new ModelSource.Registered(registry, ArtifactRef.of("cnn", 2)))
            .adaptive(selector)
            .build()
            .start()) {
      JsonNode before = Http.get(server.url() + "/v2/models/cnn/variants").json();
      assertThat(before.path("probes").asInt()).isEqualTo(1);
      assertThat(selector.refused().getOrDefault(2, "")).doesNotContain("audit");
      double homeProbe = selector.ladder().get(0).probeMillis();

      registry.recordAudit(
          ArtifactRef.of("cnn", 2),
          false,
          "0".repeat(64),
          "flip rate on current data",
          Map.of(),
          "t");
      assertThat(server.load("cnn")).hasSize(2);

      JsonNode after = Http.get(server.url() + "/v2/models/cnn/variants").json();
      assertThat(after.path("probes").asInt()).isEqualTo(2);
      assertThat(Instant.parse(after.path("probed_at").asText()))
          .isAfter(Instant.parse(before.path("probed_at").asText()));
      assertThat(selector.refused().get(2)).contains("failed its latest audit");
      assertThat(selector.ladder()).extracting(v -> v.key().version()).containsExactly(1);
      assertThat(selector.ladder().get(0).probeMillis()).isNotEqualTo(homeProbe);
      assertThat(selector.active()).contains(new ModelKey("cnn", 1));
      // off the ladder: no probe figure for it (NaN if it was on the ladder at start); the new
      // queues publish their depth
      assertThat(Http.get(server.url() + "/metrics").text())
          .contains("quantguard_queue_depth{model=\"cnn\",version=\"1\"} 0.0")
          .contains("quantguard_queue_depth{model=\"cnn\",version=\"2\"} 0.0")
          .doesNotContainPattern("quantguard_variant_probe_seconds\\{[^}]*version=\"2\"\\} [0-9]");
    }
  }
}

package io.quantguard.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quantguard.evaluate.drift.ReferenceProfile;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.Registration;
import io.quantguard.registry.Registry;
import io.quantguard.registry.Stage;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drift and calibration-range overflow measured inside the server, on the real Fashion-MNIST CNN:
 * the FP32 model in production with its reference profile (1,000 training images) stored in the
 * registry, and a static int8 candidate in shadow (entropy-calibrated activations, which clip the
 * input's tails on purpose). Two windows of unchanged test images, then two of inverted images (1 −
 * x): the drift scores and the overflow rate rise, {@code /metrics} and {@code GET
 * /v2/models/cnn/drift} carry them, and the rollout's policy fails on its {@code psi} and {@code
 * overflow_rate} rules. Windows are closed by the test ({@link DriftMonitor#analyze()}); the clock
 * runs hourly.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CnnDriftTest {
  static final String INVERTED = "&mean=1&std=-1";
  static final String BRIGHTENED = "&mean=-1&std=2";
  private static final String INPUT_TENSOR = "/Div_output_0";
  private static final int ROWS = 16;
  private static final int REQUESTS = 32;
  static final String POLICY =
      """
      name: live-cnn-drift
      rules:
        cosine_mean: {min: 0.9}
        psi: {max: 1.0}
        overflow_rate: {max: 4%}
      """;

  private static final String DRIFT_DESCRIPTION =
      "The feature's population stability index against the model's reference profile is over"
          + " 0.2 (a significant shift) in the latest closed drift window. GET"
          + " /v2/models/cnn/drift shows every test and the attribution.";
  private static final String OVERFLOW_DESCRIPTION =
      "More of the FP32 model's activations fall outside the ranges the static quantizer"
          + " calibrated than the 4 % bound: traffic is unlike the calibration data, and the int8"
          + " model's error grows before labels can show it. Set the bound to about 1.5 times the"
          + " model's rate on normal traffic (quantguard_overflow_tensor_rate names the tensors).";

  @TempDir static Path shared;

  /** PSI of image:mean and the overflow rate as scraped: normal window, then inverted. */
  static double @Nullable [] measured;

  static Path int8;
  static Path profile;

  @TempDir Path tmp;

  @BeforeAll
  static void quantizeAndProfile() {
    prepare(shared);
  }

  /** Writes the entropy-calibrated int8 CNN and the FP32 reference profile into {@code dir}. */
  static void prepare(Path dir) {
    Path cnn = TestModels.fashionCnn();
    String train =
        "idx:" + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz") + "?input=image";
    int8 = dir.resolve("cnn-int8-entropy.onnx");
    Recipe recipe =
        Recipe.defaults().toBuilder()
            .activations(
                Recipe.Activations.builder()
                    .type("uint8")
                    .symmetric(false)
                    .method("entropy")
                    .reduceRange(false)
                    .build())
            .build();
    ModelIO.save(
        Quantizer.quantize(
                ModelIO.load(cnn),
                recipe,
                DataSpec.parse(train + "&limit=1000"),
                Quantizer.Options.defaults())
            .model(),
        int8);
    profile =
        ReferenceProfile.builder()
            .model(cnn)
            .data(DataSpec.parse(train + "&limit=1000"))
            .build()
            .write(dir.resolve("cnn-profile.json"));
  }

  /** FP32 v1 in production with its profile, the int8 candidate v2 in shadow. */
  static RolloutController shadowRollout(Registry registry, String policy) {
    registry.register(
        new Registration(TestModels.fashionCnn(), "cnn", null, null, null, "fp32", "test"));
    registry.promote(ArtifactRef.of("cnn", 1), Stage.PRODUCTION, "the FP32 baseline", "test");
    registry.setProfile(ArtifactRef.of("cnn", 1), profile, "1,000 training images", "test");
    registry.register(new Registration(int8, "cnn", "cnn@1", null, null, "int8", "test"));
    return RolloutController.start(
        registry,
        ArtifactRef.of("cnn", 2),
        new RolloutSettings(RolloutSettings.Mode.SHADOW, List.of(100), Duration.ofHours(1), 64, 3),
        policy,
        "live-cnn-drift.yaml",
        "drift test",
        "test");
  }

  static DriftSettings everySample() {
    return DriftSettings.defaults()
        .withSampleShare(1)
        .withOverflowShare(1)
        .withInterval(Duration.ofHours(1));
  }

  /** {@code requests} requests of 16 test images from {@code offset}, shifted by {@code shift}. */
  static void traffic(InferenceServer server, DriftMonitor monitor, int offset, String shift)
      throws Exception {
    String test = "idx:" + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz");
    long before = monitor.counts().get("offered");
    List<Batch> batches = new ArrayList<>();
    try (BatchStream b =
        DataSpec.parse(test + "?input=image&offset=" + offset + "&limit=" + REQUESTS * ROWS + shift)
            .open(ROWS)) {
      while (b.hasNext()) {
        batches.add(b.next());
      }
    }
    for (int i = 0; i < batches.size(); i++) {
      Http.Response r =
          Http.post(
              server.url() + "/v2/models/cnn/infer",
              RequestBody.binary(
                  "o" + offset + shift.hashCode() + "-" + i,
                  Map.of("image", batches.get(i).inputs().get("image")),
                  false));
      assertThat(r.status()).as(r.text()).isEqualTo(200);
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (monitor.counts().get("offered") - before < batches.size()
        && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(monitor.settle(60_000)).as("the drift worker finished").isTrue();
  }

  static double psi(JsonNode window, String feature) {
    for (JsonNode f : window.path("features")) {
      if (f.path("feature").asText().equals(feature)) {
        return f.path("psi").asDouble();
      }
    }
    throw new AssertionError("no feature " + feature + " in " + window);
  }

  static double tensorRate(JsonNode window, String tensor) {
    for (JsonNode t : window.path("overflow").path("tensors")) {
      if (t.path("tensor").asText().equals(tensor)) {
        return t.path("rate").asDouble();
      }
    }
    return 0; // only the ten worst tensors are listed
  }

  @Test
  @Order(1)
  void invertedImagesRaiseDriftAndOverflowInsideTheServer() throws Exception {
    Registry registry = Registry.open(tmp.resolve("registry").toString());
    RolloutController rollout = shadowRollout(registry, POLICY);
    try (DriftMonitor monitor = DriftMonitor.forRollout(registry, rollout, everySample());
        InferenceServer server =
            InferenceServer.builder()
                .config(ServerConfig.defaults().withPort(0).withThreads(2))
                .rollout(rollout)
                .drift(monitor)
                .build()
                .start()) {
      List<JsonNode> windows = new ArrayList<>();
      List<String> scrapes = new ArrayList<>();
      String[] shifts = {"", "", INVERTED, INVERTED};
      for (int w = 0; w < shifts.length; w++) {
        traffic(server, monitor, (w % 2) * REQUESTS * ROWS, shifts[w]);
        if (w == 0) {
          // Enough paired samples, but the policy's drift rules have no closed window yet.
          RolloutDecision early = rollout.analyze();
          assertThat(early.decision()).isEqualTo("inconclusive");
          assertThat(early.reason()).contains("no drift window");
        }
        monitor.analyze();
        JsonNode drift = Http.get(server.url() + "/v2/models/cnn/drift").json().path("drift");
        JsonNode window = drift.path("window");
        windows.add(window);
        scrapes.add(Http.get(server.url() + "/metrics").text());
        System.out.printf(
            Locale.ROOT,
            "CNN drift window %d (%s): samples %d, drifted share %.2f, image:mean PSI %.3f,"
                + " logits:class PSI %.3f, overflow %.4f (input %.4f), cosine %.5f, flip %.4f%n",
            w,
            shifts[w].isEmpty() ? "unchanged" : "inverted",
            window.path("samples").asLong(),
            window.path("drift_share").asDouble(),
            psi(window, "image:mean"),
            psi(window, "logits:class"),
            window.path("overflow").path("rate").asDouble(),
            tensorRate(window, INPUT_TENSOR),
            window.path("quality").path("cosine_mean").asDouble(),
            window.path("quality").path("flip_rate").asDouble());
      }
      JsonNode normal = windows.get(1);
      JsonNode shifted = windows.get(3);
      assertThat(normal.path("samples").asLong()).isEqualTo(REQUESTS * ROWS);
      assertThat(normal.path("overflow").path("samples").asLong()).isEqualTo(REQUESTS * ROWS);
      assertThat(normal.path("drift_share").asDouble()).isLessThanOrEqualTo(0.25);
      assertThat(shifted.path("drift_share").asDouble()).isGreaterThanOrEqualTo(0.5);
      assertThat(psi(shifted, "image:mean"))
          .isGreaterThan(1)
          .isGreaterThan(10 * psi(normal, "image:mean"));
      assertThat(psi(shifted, "logits:class")).isGreaterThan(5 * psi(normal, "logits:class"));
      double normalRate = normal.path("overflow").path("rate").asDouble();
      double shiftedRate = shifted.path("overflow").path("rate").asDouble();
      assertThat(shiftedRate).isGreaterThan(1.5 * normalRate);
      assertThat(tensorRate(shifted, INPUT_TENSOR))
          .isGreaterThan(10 * tensorRate(normal, INPUT_TENSOR));

      // The metrics carry the latest window.
      String metrics = scrapes.get(3);
      PrometheusText.check(metrics, tmp);
      double scrapedPsi =
          PrometheusText.value(
              metrics, "quantguard_drift_psi", Map.of("model", "cnn", "feature", "image:mean"));
      assertThat(scrapedPsi).isCloseTo(psi(shifted, "image:mean"), within(1e-9));
      measured =
          new double[] {
            PrometheusText.value(
                scrapes.get(1),
                "quantguard_drift_psi",
                Map.of("model", "cnn", "feature", "image:mean")),
            scrapedPsi,
            PrometheusText.value(
                scrapes.get(1), "quantguard_overflow_rate", Map.of("model", "cnn")),
            PrometheusText.value(metrics, "quantguard_overflow_rate", Map.of("model", "cnn"))
          };
      assertThat(PrometheusText.value(metrics, "quantguard_overflow_rate", Map.of("model", "cnn")))
          .isCloseTo(shiftedRate, within(1e-9));
      assertThat(
              PrometheusText.value(
                  metrics,
                  "quantguard_overflow_tensor_rate",
                  Map.of("model", "cnn", "tensor", INPUT_TENSOR)))
          .isGreaterThan(0.1);

      // The endpoint shows the policy's thresholds and the attribution over four windows.
      JsonNode drift = Http.get(server.url() + "/v2/models/cnn/drift").json().path("drift");
      assertThat(drift.path("thresholds").path("rules").findValuesAsText("metric"))
          .containsExactly("psi", "overflow_rate");
      assertThat(drift.path("history")).hasSize(4);
      JsonNode ranked = drift.path("attribution").path("ranked");
      System.out.println("CNN attribution: " + ranked);
      // The cosine's tail fell with the inverted windows; the input's drift went with it.
      assertThat(ranked.get(0).path("association").asDouble()).isGreaterThan(0.5);
      List<String> top = new ArrayList<>();
      ranked.forEach(r -> top.add(r.path("series").asText()));
      assertThat(top.subList(0, 3)).anyMatch(n -> n.startsWith("image:"));
      String summary = drift.path("attribution").path("summary").asText();
      System.out.println("CNN attribution summary: " + summary);
      assertThat(summary).contains("coincides with an input shift").contains("image:");

      assertThat(Http.get(server.url() + "/v2/models/nope/drift").status()).isEqualTo(404);

      // The rollout's policy judges the same window: psi and overflow_rate fail.
      RolloutDecision d = rollout.analyze();
      System.out.println("CNN rollout on the inverted window: " + d.reason());
      assertThat(d.decision()).isEqualTo("hold");
      assertThat(d.reason()).contains("psi").contains("overflow_rate");
      assertThat((Double) d.measured().get("psi")).isGreaterThan(1);
    }
  }

  private static org.assertj.core.data.Offset<Double> within(double d) {
    return org.assertj.core.data.Offset.offset(d);
  }

  /**
   * The shipped alert rules, fed with the values the server exported above (ten minutes of the
   * normal window's, then twenty of the inverted one's): the drift and overflow alerts stay quiet,
   * then fire.
   */
  @Test
  @Order(2)
  void theShippedAlertRulesFireOnTheMeasuredShift() throws Exception {
    double[] m = measured;
    assumeTrue(m != null, "the drift measurement above did not run");
    Path promtool = Path.of("/usr/bin/promtool");
    assumeTrue(
        Files.isExecutable(promtool),
        "promtool is not installed (Debian: apt-get install prometheus); alert rules not run");
    Path rules = Path.of("..", "deploy", "prometheus", "quantguard-alerts.yml").toAbsolutePath();
    String test =
        String.format(
            Locale.ROOT,
            """
            rule_files:
              - %s
            evaluation_interval: 1m
            tests:
              - interval: 1m
                input_series:
                  - series: 'quantguard_drift_psi{model="cnn",feature="image:mean"}'
                    values: "%s"
                  - series: 'quantguard_overflow_rate{model="cnn"}'
                    values: "%s"
                alert_rule_test:
                  - {eval_time: 9m, alertname: QuantGuardInputDrift, exp_alerts: []}
                  - {eval_time: 9m, alertname: QuantGuardCalibrationOverflowHigh, exp_alerts: []}
                  - eval_time: 20m
                    alertname: QuantGuardInputDrift
                    exp_alerts:
                      - exp_labels: {severity: warning, model: cnn, feature: "image:mean"}
                        exp_annotations:
                          summary: "cnn image:mean drifted (PSI %s)"
                          description: "%s"
                  - eval_time: 20m
                    alertname: QuantGuardCalibrationOverflowHigh
                    exp_alerts:
                      - exp_labels: {severity: warning, model: cnn}
                        exp_annotations:
                          summary: "cnn clips %s%% of FP32 activations"
                          description: "%s"
            """,
            rules,
            m[0] + "x10 " + m[1] + "x20",
            m[2] + "x10 " + m[3] + "x20",
            String.format(Locale.ROOT, "%.2f", m[1]),
            DRIFT_DESCRIPTION,
            // humanizePercentage is Go's %.4g of the value × 100.
            new java.math.BigDecimal(m[3] * 100)
                .round(new java.math.MathContext(4))
                .stripTrailingZeros()
                .toPlainString(),
            OVERFLOW_DESCRIPTION);
    Path file = Files.writeString(tmp.resolve("measured-drift.test.yml"), test);
    Process p =
        new ProcessBuilder(promtool.toString(), "test", "rules", file.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    System.out.println("promtool test rules on the measured values: " + out.strip());
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("SUCCESS");
  }

  @Test
  @Order(3)
  void aModelWithoutAStoredProfileIsRefusedNamingTheFix() {
    Registry registry = Registry.open(tmp.resolve("bare").toString());
    registry.register(
        new Registration(TestModels.fashionCnn(), "cnn", null, null, null, "fp32", "test"));
    registry.register(new Registration(int8, "cnn", "cnn@1", null, null, "int8", "test"));
    assertThatThrownBy(
            () -> DriftMonitor.forModel(registry, ArtifactRef.of("cnn", 2), everySample()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("has no drift profile")
        .hasMessageContaining("cnn@2, cnn@1")
        .hasMessageContaining("registry profile cnn@1");
  }
}

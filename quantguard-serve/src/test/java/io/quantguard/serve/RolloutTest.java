package io.quantguard.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.registry.Action;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.ChangeLogEntry;
import io.quantguard.registry.Registration;
import io.quantguard.registry.Registry;
import io.quantguard.registry.RolloutRecord;
import io.quantguard.registry.Stage;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rollouts on the real Fashion-MNIST CNN, judged live by a policy: an int8 model calibrated on
 * blank images is rolled back within its failure budget; the W4A8 model from the shipped recipe
 * ({@code recipes/cnn-w4a8.yaml}, calibrated on real images) climbs the canary steps and is
 * promoted; both decisions are in the registry's change log with the measured reason. A window
 * without traffic is inconclusive; a restarted server resumes at its step; the manual endpoints
 * need the token. The analysis interval is an hour, so the test decides when each interval ends by
 * calling {@link RolloutController#analyze()}.
 */
class RolloutTest {
  private static final String TOKEN = "rollout-test-token";
  private static final String POLICY =
      """
      name: live-cnn
      rules:
        flip_rate: {max: 10%}
        cosine_mean: {min: 0.95}
        error_rate: {max: 1%}
      """;
  private static final int ROWS = 16;

  @TempDir static Path shared;
  private static Path blank;
  private static Path w4a8;
  private static List<Batch> images;

  @TempDir Path tmp;

  @BeforeAll
  static void quantize() throws Exception {
    Path cnn = TestModels.fashionCnn();
    String train = "idx:" + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz");
    blank = shared.resolve("cnn-int8-blank.onnx");
    // scale=0 turns every calibration image black: the activation ranges are the ones of no input.
    ModelIO.save(
        Quantizer.quantize(
                ModelIO.load(cnn),
                Recipe.defaults(),
                DataSpec.parse(train + "?input=image&scale=0&limit=256"),
                Quantizer.Options.defaults())
            .model(),
        blank);
    w4a8 = shared.resolve("cnn-w4a8.onnx");
    ModelIO.save(
        Quantizer.quantize(
                ModelIO.load(cnn),
                RecipeIO.read(Path.of("..", "recipes", "cnn-w4a8.yaml")),
                DataSpec.parse(train + "?input=image&limit=512"),
                Quantizer.Options.defaults())
            .model(),
        w4a8);
    images = new ArrayList<>();
    String test = "idx:" + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz");
    String labels = TestModels.fashionMnistSample("t10k-labels-idx1-ubyte.gz").toString();
    try (BatchStream b =
        DataSpec.parse(test + "?input=image&limit=1024&labels=" + labels).open(ROWS)) {
      while (b.hasNext()) {
        images.add(b.next());
      }
    }
  }

  /** A registry with the FP32 CNN in production (v1), the blank-calibrated int8 (v2), W4A8 (v3). */
  private Registry registry() {
    Registry r = Registry.open(tmp.resolve("registry").toString());
    r.register(new Registration(TestModels.fashionCnn(), "cnn", null, null, null, "fp32", "test"));
    r.promote(ArtifactRef.of("cnn", 1), Stage.PRODUCTION, "the FP32 baseline", "test");
    r.register(new Registration(blank, "cnn", "cnn@1", null, null, "blank calibration", "test"));
    r.register(new Registration(w4a8, "cnn", "cnn@1", null, null, "shipped recipe", "test"));
    return r;
  }

  private static RolloutSettings settings() {
    return new RolloutSettings(
        RolloutSettings.Mode.CANARY, List.of(10, 50, 100), Duration.ofHours(1), 64, 2);
  }

  private static InferenceServer serve(RolloutController rollout) {
    return InferenceServer.builder()
        .config(
            ServerConfig.defaults()
                .withPort(0)
                .withThreads(2)
                .withGuard(BearerTokenGuard.of(TOKEN)))
        .rollout(rollout)
        .build()
        .start();
  }

  /**
   * Sends {@code requests} requests of 16 test images naming no version, waits until the rollout
   * has observed every one the candidate answered, and returns how many it answered.
   */
  private static int traffic(InferenceServer server, RolloutController rollout, int requests)
      throws InterruptedException {
    long before = rollout.candidateRequestsSeen();
    int candidate = 0;
    for (int i = 0; i < requests; i++) {
      Batch b = images.get(i % images.size());
      Http.Response r =
          Http.post(
              server.url() + "/v2/models/cnn/infer",
              RequestBody.binary("r" + i, Map.of("image", b.inputs().get("image")), false));
      assertThat(r.status()).as(r.text()).isEqualTo(200);
      int version = r.json().path("model_version").asInt();
      candidate += version == rollout.candidate().version() ? 1 : 0;
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (rollout.candidateRequestsSeen() - before < candidate && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    return candidate;
  }

  @Test
  void aCandidateCalibratedOnBlankImagesIsRolledBackWithinItsBudget() throws Exception {
    Registry registry = registry();
    RolloutController rollout =
        RolloutController.start(
            registry, ArtifactRef.of("cnn", 2), settings(), POLICY, "live-cnn.yaml", "try", "ci");
    try (InferenceServer server = serve(rollout)) {
      int answered = traffic(server, rollout, 60);
      assertThat(answered).as("10 %% of 60 requests").isEqualTo(6);
      RolloutDecision first = rollout.analyze();
      System.out.println("blank int8, interval 1: " + first.measured());
      assertThat(first.decision()).isEqualTo("hold");
      assertThat(first.failedIntervals()).isEqualTo(1);
      assertThat(first.reason()).contains("flip_rate").contains("exceeds");

      traffic(server, rollout, 60);
      RolloutDecision second = rollout.analyze();
      assertThat(second.decision()).isEqualTo("rollback");
      assertThat(second.status()).isEqualTo(RolloutRecord.Status.ROLLED_BACK);

      // Every request goes to the baseline now.
      assertThat(traffic(server, rollout, 20)).isZero();
      String metrics = Http.get(server.url() + "/metrics").text();
      assertThat(metrics)
          .contains(
              "quantguard_rollout_decisions_total{candidate=\"2\",decision=\"hold\",model=\"cnn\"} 1.0")
          .contains(
              "quantguard_rollout_decisions_total{candidate=\"2\",decision=\"rollback\",model=\"cnn\"} 1.0")
          .contains(
              "quantguard_rollout_state{candidate=\"2\",model=\"cnn\",state=\"rolled_back\"} 1.0")
          .contains("quantguard_rollout_share{candidate=\"2\",model=\"cnn\"} 0.0")
          .contains("quantguard_rollout_failed_intervals{candidate=\"2\",model=\"cnn\"} 2.0");
    }
    ChangeLogEntry last = registry.log("cnn", 1).get(0);
    assertThat(last.action()).isEqualTo(Action.ROLLBACK);
    assertThat(last.version()).isEqualTo(2);
    assertThat(last.reason()).contains("policy live-cnn fails").contains("flip_rate");
    assertThat((Double) last.details().get("flip_rate")).isGreaterThan(0.10);
    assertThat(registry.version(ArtifactRef.of("cnn", 2)).stage()).isEqualTo(Stage.ARCHIVED);
    assertThat(registry.version(ArtifactRef.of("cnn", 1)).stage()).isEqualTo(Stage.PRODUCTION);
  }

  @Test
  void theShippedRecipeIsPromotedStepByStepAndARestartResumesAtItsStep() throws Exception {
    Registry registry = registry();
    RolloutController rollout =
        RolloutController.start(
            registry, ArtifactRef.of("cnn", 3), settings(), POLICY, "live-cnn.yaml", "try", "ci");
    int entries = registry.log("cnn", 100).size();
    try (InferenceServer server = serve(rollout)) {
      // No traffic: inconclusive, neither a pass nor a failure, and nothing is recorded.
      RolloutDecision quiet = rollout.analyze();
      assertThat(quiet.decision()).isEqualTo("inconclusive");
      assertThat(quiet.reason()).contains("0 paired samples").contains("fewer than the 64");
      assertThat(quiet.failedIntervals()).isZero();
      assertThat(registry.log("cnn", 100)).hasSize(entries);

      traffic(server, rollout, 60);
      RolloutDecision first = rollout.analyze();
      System.out.println("w4a8, interval 1: " + first.measured());
      assertThat(first.decision()).as(first.reason()).isEqualTo("step_up");
      assertThat(first.share()).isEqualTo(0.5);
    }
    // A new server on the same registry (the first one was stopped at 50 %) resumes there.
    RolloutController resumed = RolloutController.resume(registry, "cnn", "ci").orElseThrow();
    assertThat(resumed.record().step()).isEqualTo(1);
    assertThat(resumed.settings()).isEqualTo(settings());
    try (InferenceServer server = serve(resumed)) {
      assertThat(traffic(server, resumed, 20)).isEqualTo(10);
      assertThat(resumed.analyze().decision()).isEqualTo("step_up");
      assertThat(traffic(server, resumed, 10)).isEqualTo(10);
      RolloutDecision done = resumed.analyze();
      assertThat(done.decision()).isEqualTo("promote");
      assertThat(traffic(server, resumed, 5)).isEqualTo(5);
    }
    ChangeLogEntry last = registry.log("cnn", 1).get(0);
    assertThat(last.action()).isEqualTo(Action.PROMOTE);
    assertThat(last.version()).isEqualTo(3);
    assertThat(last.previousVersion()).isEqualTo(1);
    assertThat(last.reason()).contains("policy live-cnn holds").contains("flip_rate");
    assertThat(registry.version(ArtifactRef.of("cnn", 3)).stage()).isEqualTo(Stage.PRODUCTION);
    List<String> decisions =
        registry.log("cnn", 100).stream()
            .filter(e -> e.details().containsKey("decision"))
            .map(e -> (String) e.details().get("decision"))
            .toList();
    assertThat(decisions).containsExactly("start", "step_up", "step_up", "promote");
  }

  @Test
  void manualActionsNeedTheTokenAndShadowAnswersFromTheBaseline() throws Exception {
    Registry registry = registry();
    RolloutController rollout =
        RolloutController.start(
            registry,
            ArtifactRef.of("cnn", 3),
            settings().withMode(RolloutSettings.Mode.SHADOW),
            POLICY,
            "live-cnn.yaml",
            "try",
            "ci");
    try (InferenceServer server = serve(rollout)) {
      // Shadow: the client always gets the baseline; the candidate ran every request aside.
      assertThat(traffic(server, rollout, 8)).isZero();
      Thread.sleep(200);
      assertThat(rollout.candidateRequestsSeen()).isEqualTo(8);

      int entries = registry.log("cnn", 100).size();
      for (String action : List.of("pause", "promote", "rollback")) {
        Http.Response r = Http.post(server.url() + "/v2/rollouts/cnn/" + action, new byte[0]);
        assertThat(r.status()).isEqualTo(401);
      }
      assertThat(registry.log("cnn", 100)).hasSize(entries);
      assertThat(rollout.record().status()).isEqualTo(RolloutRecord.Status.RUNNING);

      Http.Response paused =
          Http.postJson(
              server.url() + "/v2/rollouts/cnn/pause",
              "{\"reason\": \"investigating a latency alert\"}",
              "Authorization",
              "Bearer " + TOKEN);
      assertThat(paused.status()).as(paused.text()).isEqualTo(200);
      assertThat(paused.json().path("state").asText()).isEqualTo("paused");
      assertThat(registry.log("cnn", 1).get(0).reason()).isEqualTo("investigating a latency alert");
      Http.Response status = Http.get(server.url() + "/v2/rollouts/cnn");
      assertThat(status.json().path("rollout").path("state").asText()).isEqualTo("paused");
      assertThat(Http.get(server.url() + "/v2/rollouts/other").status()).isEqualTo(404);
      Http.Response again =
          Http.post(
              server.url() + "/v2/rollouts/cnn/pause",
              new byte[0],
              "Authorization",
              "Bearer " + TOKEN);
      assertThat(again.status()).isEqualTo(400);
      assertThat(again.text()).contains("it is paused");
    }
  }

  @Test
  void lateLabelsGiveLiveAccuracyPerVersionInShadow() throws Exception {
    Registry registry = registry();
    RolloutController rollout =
        RolloutController.start(
            registry,
            ArtifactRef.of("cnn", 2),
            settings().withMode(RolloutSettings.Mode.SHADOW),
            POLICY,
            "live-cnn.yaml",
            "try",
            "ci");
    LabelFeedback feedback = new LabelFeedback(1000);
    try (InferenceServer server =
        InferenceServer.builder()
            .config(
                ServerConfig.defaults()
                    .withPort(0)
                    .withThreads(2)
                    .withGuard(BearerTokenGuard.of(TOKEN)))
            .rollout(rollout)
            .feedback(feedback)
            .build()
            .start()) {
      int requests = 24;
      traffic(server, rollout, requests);
      Thread.sleep(200);
      StringBuilder body = new StringBuilder("{\"feedback\": [");
      for (int i = 0; i < requests; i++) {
        long[] labels = images.get(i).labels();
        body.append(i == 0 ? "" : ",").append("{\"id\": \"r").append(i).append("\", \"labels\": [");
        for (int r = 0; r < labels.length; r++) {
          body.append(r == 0 ? "" : ",").append(labels[r]);
        }
        body.append("]}");
      }
      body.append(",{\"id\": \"never-sent\", \"labels\": [1]}]}");
      String url = server.url() + "/v2/feedback";
      assertThat(Http.postJson(url, body.toString()).status()).isEqualTo(401);
      assertThat(Http.get(url).json().path("versions").size()).isZero();
      Http.Response joined =
          Http.postJson(url, body.toString(), "Authorization", "Bearer " + TOKEN);
      assertThat(joined.status()).as(joined.text()).isEqualTo(200);
      assertThat(joined.json().path("joined").asInt()).isEqualTo(requests);
      assertThat(joined.json().path("unknown").toString()).isEqualTo("[\"never-sent\"]");
      Http.Response wrongRows =
          Http.postJson(
              url, "{\"id\": \"x\", \"labels\": [-1]}", "Authorization", "Bearer " + TOKEN);
      assertThat(wrongRows.status()).isEqualTo(400);

      var versions = Http.get(url).json().path("versions");
      System.out.println("live accuracy from late labels: " + versions);
      assertThat(versions.path("cnn@1").path("labelled").asLong()).isEqualTo(requests * ROWS);
      assertThat(versions.path("cnn@2").path("labelled").asLong()).isEqualTo(requests * ROWS);
      double fp32 = versions.path("cnn@1").path("accuracy").asDouble();
      double blankInt8 = versions.path("cnn@2").path("accuracy").asDouble();
      assertThat(fp32).isGreaterThan(0.8);
      assertThat(blankInt8).isLessThan(fp32);
    }
  }

  @Test
  void aPolicyOnMetricsTheLiveWindowLacksIsRefusedBeforeAnythingIsWritten() {
    Registry registry = registry();
    int entries = registry.log("cnn", 100).size();
    assertThatThrownBy(
            () ->
                RolloutController.start(
                    registry,
                    ArtifactRef.of("cnn", 3),
                    settings(),
                    "rules:\n  accuracy: {max_drop: 1%}\n",
                    "offline.yaml",
                    "try",
                    "ci"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("accuracy")
        .hasMessageContaining("flip_rate");
    assertThat(registry.log("cnn", 100)).hasSize(entries);
    assertThat(registry.activeRollout("cnn")).isEmpty();
    assertThat(Files.exists(tmp)).isTrue();
  }
}

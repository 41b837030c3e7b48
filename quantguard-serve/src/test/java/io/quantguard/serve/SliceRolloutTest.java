package io.quantguard.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.registry.Action;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.ChangeLogEntry;
import io.quantguard.registry.Registration;
import io.quantguard.registry.Registry;
import io.quantguard.registry.RolloutRecord;
import io.quantguard.registry.Stage;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A canary judged per slice on the real Fashion-MNIST CNN: the W4A8 model of the shipped recipe
 * (calibrated on real images) agrees with FP32 on real images, but on inverted images (white
 * background) its activations leave the calibrated ranges. With most traffic real and one slice
 * tagged {@code inverted}, the mean holds the policy while the slice fails it, and the rollout is
 * rolled back with the slice named; a slice of one request is inconclusive.
 */
class SliceRolloutTest {
  private static final String POLICY =
      """
      name: live-cnn
      rules:
        flip_rate: {max: 8%}
        cosine_mean: {min: 0.95}
        error_rate: {max: 1%}
      """;
  private static final int ROWS = 16;

  @TempDir static Path shared;
  private static Path w4a8;
  private static List<Tensor> images;

  @TempDir Path tmp;

  @BeforeAll
  static void quantize() throws Exception {
    Path cnn = TestModels.fashionCnn();
    String train = "idx:" + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz");
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
    try (BatchStream b = DataSpec.parse(test + "?input=image&limit=1024").open(ROWS)) {
      while (b.hasNext()) {
        Batch batch = b.next();
        images.add(batch.inputs().get("image"));
      }
    }
  }

  private static Tensor inverted(Tensor t) {
    float[] f = t.floats().clone();
    for (int i = 0; i < f.length; i++) {
      f[i] = 1 - f[i];
    }
    return Tensor.ofFloats(f, t.shape());
  }

  /** One request of 16 images tagged with {@code slice} by the header, the parameter, or not. */
  private static int send(InferenceServer server, Tensor image, String slice, boolean header)
      throws Exception {
    RequestBody body = RequestBody.json("r", Map.of("image", image));
    byte[] bytes = body.bytes();
    List<String> headers = new ArrayList<>(List.of("Content-Type", "application/json"));
    if (slice != null && header) {
      headers.addAll(List.of(TrafficSlices.HEADER, slice));
    } else if (slice != null) {
      ObjectNode json = (ObjectNode) Http.JSON.readTree(bytes);
      json.putObject("parameters").put("slice", slice);
      bytes = Http.JSON.writeValueAsBytes(json);
    }
    Http.Response r =
        Http.post(server.url() + "/v2/models/cnn/infer", bytes, headers.toArray(String[]::new));
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    return r.json().path("model_version").asInt() == 2 ? 1 : 0;
  }

  @Test
  void aSliceTheCandidateFailsRollsItBackThoughTheMeanHolds() throws Exception {
    Registry registry = Registry.open(tmp.resolve("registry").toString());
    registry.register(
        new Registration(TestModels.fashionCnn(), "cnn", null, null, null, "fp32", "test"));
    registry.promote(ArtifactRef.of("cnn", 1), Stage.PRODUCTION, "the FP32 baseline", "test");
    registry.register(new Registration(w4a8, "cnn", "cnn@1", null, null, "shipped recipe", "t"));
    // 50 % first: each pair of requests in a row has one the candidate answers.
    RolloutSettings settings =
        new RolloutSettings(
            RolloutSettings.Mode.CANARY, List.of(50, 100), Duration.ofHours(1), 64, 1);
    RolloutController rollout =
        RolloutController.start(
            registry, ArtifactRef.of("cnn", 2), settings, POLICY, "live-cnn.yaml", "try", "ci");
    try (InferenceServer server =
        InferenceServer.builder()
            .config(ServerConfig.defaults().withPort(0).withThreads(2))
            .rollout(rollout)
            .build()
            .start()) {
      int candidate = 0;
      // 40 pairs of real images (slice "real", by parameter), 5 pairs inverted (by header), one
      // pair of slice "rare", 4 pairs untagged
      for (int i = 0; i < 40; i++) {
        for (int k = 0; k < 2; k++) {
          candidate += send(server, images.get(i), "real", false);
        }
      }
      for (int i = 40; i < 45; i++) {
        for (int k = 0; k < 2; k++) {
          candidate += send(server, inverted(images.get(i)), "inverted", true);
        }
      }
      for (int k = 0; k < 2; k++) {
        candidate += send(server, images.get(45), "rare", k == 0);
      }
      for (int i = 46; i < 50; i++) {
        for (int k = 0; k < 2; k++) {
          candidate += send(server, images.get(i), null, false);
        }
      }
      assertThat(candidate).isEqualTo(50);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (rollout.candidateRequestsSeen() < candidate && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      JsonNode collecting = Http.get(server.url() + "/v2/rollouts/cnn").json().path("rollout");
      assertThat(
              collecting
                  .path("window")
                  .path("slices")
                  .path("inverted")
                  .path("paired_samples")
                  .asLong())
          .isEqualTo(80);
      assertThat(collecting.path("max_slices").asInt()).isEqualTo(TrafficSlices.DEFAULT_LIMIT);

      RolloutDecision d = rollout.analyze();
      System.out.println("w4a8 per slice: " + d.reason() + "\n" + d.measured());
      @SuppressWarnings("unchecked")
      Map<String, Map<String, Object>> slices =
          (Map<String, Map<String, Object>>) d.measured().get("slices");
      assertThat(slices.get("real").get("verdict")).isEqualTo("pass");
      assertThat(slices.get("inverted").get("verdict")).isEqualTo("fail");
      assertThat(slices.get("rare").get("verdict")).isEqualTo("inconclusive");
      assertThat(slices.get("rare").get("paired_samples")).isEqualTo(16L);
      // the mean over all 800 paired rows holds; the inverted slice alone fails
      assertThat(d.reason()).startsWith("policy live-cnn holds on 800 paired samples");
      // measured: 4.3 % on all, 3.4 % on real, 15 % on inverted
      assertThat((Double) d.measured().get("flip_rate")).isLessThanOrEqualTo(0.08);
      assertThat((Double) slices.get("inverted").get("flip_rate")).isGreaterThan(0.08);
      assertThat(d.reason())
          .contains("fails on slice inverted, 80 paired samples (")
          .contains("holds on slice real")
          .contains("slice rare (16) inconclusive");
      // the whole window's verdicts are on all; a slice's verdicts name the slice, not all
      String sliceText = d.reason().substring(d.reason().indexOf("; fails on slice inverted"));
      assertThat(d.reason().substring(0, d.reason().indexOf("; fails on slice")))
          .contains(" on all ");
      assertThat(sliceText).contains(" on slice=inverted ").doesNotContain(" on all");
      assertThat((List<?>) slices.get("inverted").get("failed_rules"))
          .isNotEmpty()
          .allSatisfy(r -> assertThat(r.toString()).endsWith("[slice=inverted]"));
      assertThat(d.decision()).isEqualTo("rollback");
      assertThat(d.status()).isEqualTo(RolloutRecord.Status.ROLLED_BACK);

      String metrics = Http.get(server.url() + "/metrics").text();
      assertThat(metrics)
          .contains(
              "quantguard_rollout_slice_failed{candidate=\"2\",model=\"cnn\",slice=\"inverted\"}"
                  + " 1.0")
          .contains(
              "quantguard_rollout_slice_failed{candidate=\"2\",model=\"cnn\",slice=\"real\"} 0.0")
          .contains(
              "quantguard_rollout_slice_paired_samples{candidate=\"2\",model=\"cnn\",slice=\"rare\"}"
                  + " 16.0");
      JsonNode status = Http.get(server.url() + "/v2/rollouts/cnn").json().path("rollout");
      assertThat(status.path("judged_slices").path("inverted").path("verdict").asText())
          .isEqualTo("fail");

      // a slice the header and the parameter disagree on, and a bad tag, are refused
      RequestBody body = RequestBody.json("r", Map.of("image", images.get(0)));
      ObjectNode json = (ObjectNode) Http.JSON.readTree(body.bytes());
      json.putObject("parameters").put("slice", "a");
      Http.Response conflict =
          Http.post(
              server.url() + "/v2/models/cnn/infer",
              Http.JSON.writeValueAsBytes(json),
              "Content-Type",
              "application/json",
              TrafficSlices.HEADER,
              "b");
      assertThat(conflict.status()).isEqualTo(400);
      assertThat(conflict.text()).contains("names slice 'b' but parameters.slice names 'a'");
      Http.Response bad =
          Http.post(
              server.url() + "/v2/models/cnn/infer",
              body.bytes(),
              "Content-Type",
              "application/json",
              TrafficSlices.HEADER,
              "no spaces");
      assertThat(bad.status()).isEqualTo(400);
    }
    ChangeLogEntry last = registry.log("cnn", 1).get(0);
    assertThat(last.action()).isEqualTo(Action.ROLLBACK);
    assertThat(last.reason()).contains("fails on slice inverted").contains(" on slice=inverted ");
    @SuppressWarnings("unchecked")
    Map<String, Map<String, Object>> logged =
        (Map<String, Map<String, Object>>) last.details().get("slices");
    assertThat((List<?>) logged.get("inverted").get("failed_rules"))
        .allSatisfy(r -> assertThat(r.toString()).endsWith("[slice=inverted]"));
    assertThat(last.details().get("failed_slices")).isEqualTo(List.of("inverted"));
  }
}

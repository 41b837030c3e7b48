package io.quantguard.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.evaluate.drift.ReferenceProfile;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.TechnicalEnglish;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.Registration;
import io.quantguard.registry.Registry;
import io.quantguard.registry.Stage;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * all-MiniLM-L6-v2 static int8 ({@code recipes/minilm-static-int8.yaml}, or the recipe named by
 * {@code -Dquantguard.drift.recipe}, 500 Europarl calibration texts) in shadow against FP32 inside
 * the server, watched for drift against a profile of 300 other Europarl texts stored with the FP32
 * version, on a stream that switches from Europarl to technical English ({@link TechnicalEnglish}):
 * two windows of each, one text per request, every request through the overflow probe. Prints per
 * window the drift, the overflow rate and the live cosine, and the attribution. A measurement, not
 * a test: it runs only with {@code -Dquantguard.measure=true}.
 */
class MiniLmDriftMeasurement {
  static final String EUROPARL = "text:europarl?tokenizer=minilm-tokenizer&column=3&max_length=128";
  static final int WINDOW = 120;

  @Test
  void aSwitchToTechnicalEnglishShowsInTheServer() throws Exception {
    assumeTrue(Boolean.getBoolean("quantguard.measure"), "run with -Dquantguard.measure=true");
    Path dir = Files.createDirectories(Path.of("target", "minilm-drift"));
    // -Dquantguard.drift.recipe=minilm-all-int8 measures the recipe that also quantizes the FFN
    // down-projections, the one that loses most on technical English offline.
    String recipe = System.getProperty("quantguard.drift.recipe", "minilm-static-int8");
    Path int8 = dir.resolve(recipe + ".onnx");
    long t0 = System.nanoTime();
    if (!Files.exists(int8)) {
      ModelIO.save(
          Quantizer.quantize(
                  ModelIO.load(TestModels.miniLm()),
                  RecipeIO.read(Path.of("..", "recipes", recipe + ".yaml")),
                  DataSpec.parse(EUROPARL + "&limit=500"),
                  Quantizer.Options.defaults())
              .model(),
          int8);
    }
    long unk =
        new ObjectMapper()
            .readTree(TestModels.miniLmTokenizer().toFile())
            .path("model")
            .path("vocab")
            .path("[UNK]")
            .asLong();
    Path profile =
        ReferenceProfile.builder()
            .model(TestModels.miniLm())
            .data(DataSpec.parse(EUROPARL + "&offset=500&limit=300"))
            .unknownTokenId(unk)
            .batchSize(32)
            .build()
            .write(dir.resolve("profile.json"));
    System.out.printf(
        Locale.ROOT, "int8 and profile ready in %.0f s%n", (System.nanoTime() - t0) / 1e9);
    Path tech = TechnicalEnglish.write(dir.resolve("technical-english.txt"), 1000);
    String technical = "text:" + tech + "?tokenizer=minilm-tokenizer&max_length=128";

    Path reg = dir.resolve("registry-" + System.nanoTime());
    Registry registry = Registry.open(reg.toString());
    registry.register(
        new Registration(TestModels.miniLm(), "minilm", null, null, null, "fp32", "m"));
    registry.promote(ArtifactRef.of("minilm", 1), Stage.PRODUCTION, "baseline", "m");
    registry.setProfile(ArtifactRef.of("minilm", 1), profile, "300 Europarl texts", "m");
    registry.register(new Registration(int8, "minilm", "minilm@1", null, null, "int8", "m"));
    RolloutController rollout =
        RolloutController.start(
            registry,
            ArtifactRef.of("minilm", 2),
            new RolloutSettings(
                RolloutSettings.Mode.SHADOW, List.of(100), Duration.ofHours(1), 64, 3),
            "name: live-minilm\nrules:\n  cosine_mean: {min: 0.99}\n  overflow_rate: {max: 1%}\n",
            "live-minilm.yaml",
            "measurement",
            "m");
    DriftSettings settings =
        DriftSettings.defaults()
            .withSampleShare(1)
            .withOverflowShare(1)
            .withInterval(Duration.ofHours(1));
    String[] windows = {
      EUROPARL + "&offset=1500&limit=" + WINDOW,
      EUROPARL + "&offset=" + (1500 + WINDOW) + "&limit=" + WINDOW,
      technical + "&offset=0&limit=" + WINDOW,
      technical + "&offset=" + WINDOW + "&limit=" + WINDOW
    };
    try (DriftMonitor monitor = DriftMonitor.forRollout(registry, rollout, settings);
        InferenceServer server =
            InferenceServer.builder()
                .config(ServerConfig.defaults().withPort(0).withThreads(2))
                .rollout(rollout)
                .drift(monitor)
                .build()
                .start()) {
      for (int w = 0; w < windows.length; w++) {
        long before = monitor.counts().get("offered");
        int sent = 0;
        try (BatchStream b = DataSpec.parse(windows[w]).open(1)) {
          while (b.hasNext()) {
            Batch batch = b.next();
            Http.Response r =
                Http.post(
                    server.url() + "/v2/models/minilm/infer",
                    RequestBody.binary("w" + w + "-" + sent, batch.inputs(), true));
            assertThat(r.status()).as(r.text()).isEqualTo(200);
            sent++;
          }
        }
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (monitor.counts().get("offered") - before < sent && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
        assertThat(monitor.settle(300_000)).isTrue();
        monitor.analyze();
        JsonNode window =
            Http.get(server.url() + "/v2/models/minilm/drift").json().path("drift").path("window");
        System.out.printf(
            Locale.ROOT,
            "MiniLM window %d (%s): samples %d, drifted share %.2f, tokens PSI %.3f KS p %.3g,"
                + " embedding norm PSI %.3f, overflow %.3g, live cosine %.5f%n",
            w,
            w < 2 ? "Europarl" : "technical English",
            window.path("samples").asLong(),
            window.path("drift_share").asDouble(),
            feature(window, "input_ids:tokens").path("psi").asDouble(),
            feature(window, "input_ids:tokens").path("ks_p").asDouble(),
            feature(window, "last_hidden_state:norm").path("psi").asDouble(),
            window.path("overflow").path("rate").asDouble(),
            window.path("quality").path("cosine_mean").asDouble());
        System.out.println(
            "  worst tensors: "
                + window.path("overflow").path("tensors").get(0)
                + " "
                + window.path("overflow").path("tensors").get(1));
      }
      JsonNode drift = Http.get(server.url() + "/v2/models/minilm/drift").json().path("drift");
      System.out.println("MiniLM attribution: " + drift.path("attribution").path("ranked"));
      RolloutDecision d = rollout.analyze();
      System.out.println("MiniLM rollout on the last window: " + d.decision() + ": " + d.reason());
    }
  }

  private static JsonNode feature(JsonNode window, String name) {
    for (JsonNode f : window.path("features")) {
      if (f.path("feature").asText().equals(name)) {
        return f;
      }
    }
    return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
  }
}

package io.quantguard.serve;

import static org.assertj.core.api.Assertions.assertThat;

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

/**
 * all-MiniLM-L6-v2 static int8 from a shipped recipe, calibrated on English Europarl ({@link
 * #EUROPARL}), in shadow against FP32 inside a real server that watches it for drift against a
 * profile of other English Europarl texts stored with the FP32 version; {@link #window} streams one
 * data spec, one text per request, and closes a drift window. What the MiniLM drift test and
 * measurement share.
 */
final class MiniLmShadowStream implements AutoCloseable {
  /**
   * The English lines of Lucene's Europarl sample, which is 93 % other languages: those with at
   * least four separate words "the" (1,227 of 17,597), a word no other Europarl language has. On
   * all of it an English model is on foreign ground, and a switch to technical English takes it
   * closer to its training text, not away. Add {@code &offset=…&limit=…}.
   */
  static final String EUROPARL =
      "text:europarl?tokenizer=minilm-tokenizer&column=3&max_length=128"
          + "&match=\\bthe\\b.*?\\bthe\\b.*?\\bthe\\b.*?\\bthe\\b";

  final String technical;
  final RolloutController rollout;
  final DriftMonitor monitor;
  final InferenceServer server;
  private int requests;

  /**
   * @param dir where the quantized model (kept between runs, one per recipe and calibration), the
   *     profile and the registry go
   * @param calibration the English Europarl texts the recipe is calibrated on ({@code
   *     &offset=…&limit=…})
   * @param reference the English Europarl texts the FP32 version's drift profile is built from
   * @param policy the rollout's live policy (YAML)
   */
  MiniLmShadowStream(Path dir, String recipe, String calibration, String reference, String policy)
      throws Exception {
    Files.createDirectories(dir);
    Path int8 =
        dir.resolve(
            recipe + "-" + Integer.toHexString((EUROPARL + calibration).hashCode()) + ".onnx");
    if (!Files.exists(int8)) {
      ModelIO.save(
          Quantizer.quantize(
                  ModelIO.load(TestModels.miniLm()),
                  RecipeIO.read(Path.of("..", "recipes", recipe + ".yaml")),
                  DataSpec.parse(EUROPARL + calibration),
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
            .data(DataSpec.parse(EUROPARL + reference))
            .unknownTokenId(unk)
            .batchSize(32)
            .build()
            .write(dir.resolve("profile.json"));
    Path tech = TechnicalEnglish.write(dir.resolve("technical-english.txt"), 1000);
    technical = TechnicalEnglish.miniLmData(tech);
    Registry registry = Registry.open(dir.resolve("registry-" + System.nanoTime()).toString());
    registry.register(
        new Registration(TestModels.miniLm(), "minilm", null, null, null, "fp32", "m"));
    registry.promote(ArtifactRef.of("minilm", 1), Stage.PRODUCTION, "baseline", "m");
    registry.setProfile(ArtifactRef.of("minilm", 1), profile, EUROPARL + reference, "m");
    registry.register(new Registration(int8, "minilm", "minilm@1", null, null, "int8", "m"));
    rollout =
        RolloutController.start(
            registry,
            ArtifactRef.of("minilm", 2),
            new RolloutSettings(
                RolloutSettings.Mode.SHADOW, List.of(100), Duration.ofHours(1), 16, 3),
            policy,
            "live-minilm.yaml",
            "drift stream",
            "m");
    // every request into the window and through the probe; windows close by hand; a gauge per
    // tensor
    DriftSettings settings =
        new DriftSettings(
            1, 1, Duration.ofHours(1), 4096, 30, 10_000, DriftSettings.defaults().tests());
    monitor = DriftMonitor.forRollout(registry, rollout, settings);
    server =
        InferenceServer.builder()
            .config(ServerConfig.defaults().withPort(0).withThreads(2))
            .rollout(rollout)
            .drift(monitor)
            .build()
            .start();
  }

  /** Sends every text of {@code spec}, waits until the monitor has them all, closes a window. */
  JsonNode window(String spec) throws Exception {
    long before = monitor.counts().get("offered");
    int sent = 0;
    try (BatchStream b = DataSpec.parse(spec).open(1)) {
      while (b.hasNext()) {
        Batch batch = b.next();
        Http.Response r =
            Http.post(
                server.url() + "/v2/models/minilm/infer",
                RequestBody.binary("r" + requests++, batch.inputs(), true));
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
    return drift().path("window");
  }

  /** What {@code GET /v2/models/minilm/drift} answers now. */
  JsonNode drift() throws Exception {
    return Http.get(server.url() + "/v2/models/minilm/drift").json().path("drift");
  }

  /** The window's feature entry named {@code name}, or a missing node. */
  static JsonNode feature(JsonNode window, String name) {
    for (JsonNode f : window.path("features")) {
      if (f.path("feature").asText().equals(name)) {
        return f;
      }
    }
    return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
  }

  @Override
  public void close() {
    server.close();
    monitor.close();
  }
}

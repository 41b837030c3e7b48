package io.quantguard.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.quantguard.evaluate.drift.ReferenceProfile;
import io.quantguard.onnx.TestModels;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.Registration;
import io.quantguard.registry.Registry;
import io.quantguard.registry.Stage;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server restarted with drift monitoring resumes the closed windows the previous one kept in the
 * registry: the latest window (what the gauges and a rollout's policy read) and the history, before
 * any new traffic; the registry keeps only the newest {@code history} windows.
 */
class DriftRestartTest {
  @TempDir Path tmp;

  @Test
  void aRestartedServerResumesItsDriftWindowsFromTheRegistry() throws Exception {
    Path cnn = TestModels.fashionCnn();
    String train = "idx:" + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz");
    Registry registry = Registry.open(tmp.resolve("registry").toString());
    registry.register(new Registration(cnn, "cnn", null, null, null, "fp32", "test"));
    registry.promote(ArtifactRef.of("cnn", 1), Stage.PRODUCTION, "the FP32 model", "test");
    registry.setProfile(
        ArtifactRef.of("cnn", 1),
        ReferenceProfile.builder()
            .model(cnn)
            .data(DataSpec.parse(train + "?input=image&limit=200"))
            .build()
            .write(tmp.resolve("profile.json")),
        "200 training images",
        "test");
    DriftSettings settings =
        DriftSettings.defaults().withInterval(Duration.ofHours(1)).withHistory(3);
    ArtifactRef production = ArtifactRef.of("cnn", 1);

    JsonNode before;
    try (DriftMonitor drift = DriftMonitor.forModel(registry, production, settings);
        InferenceServer server = serve(registry, drift)) {
      assertThat(drift.figures()).isEmpty();
      for (int window = 0; window < 4; window++) {
        for (int i = 0; i < 10; i++) {
          Http.Response r =
              Http.post(
                  server.url() + "/v2/models/cnn/infer",
                  RequestBody.binary(
                      null, Map.of("image", Responses.images(2, 10 * window + i)), false));
          assertThat(r.status()).as(r.text()).isEqualTo(200);
        }
        assertThat(drift.settle(30_000)).isTrue();
        drift.analyze();
      }
      before = Http.get(server.url() + "/v2/models/cnn/drift").json().path("drift");
    }
    assertThat(registry.driftWindows("cnn", 100)).as("the newest 3 are kept").hasSize(3);
    assertThat(before.path("history")).hasSize(3);

    try (DriftMonitor drift = DriftMonitor.forModel(registry, production, settings);
        InferenceServer server = serve(registry, drift)) {
      assertThat(drift.figures()).as("the latest window is there before any traffic").isPresent();
      JsonNode after = Http.get(server.url() + "/v2/models/cnn/drift").json().path("drift");
      assertThat(after.path("history")).isEqualTo(before.path("history"));
      assertThat(after.path("window")).isEqualTo(before.path("window"));
      assertThat(after.path("window").path("psi").asDouble()).isPositive();
    }
  }

  private static InferenceServer serve(Registry registry, DriftMonitor drift) {
    return InferenceServer.builder()
        .config(ServerConfig.defaults().withPort(0).withThreads(2))
        .model(new ModelSource.Registered(registry, ArtifactRef.of("cnn", 1)))
        .drift(drift)
        .build()
        .start();
  }
}

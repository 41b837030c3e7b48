package io.quantguard.serve;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.onnx.TestModels;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.ChangeLogEntry;
import io.quantguard.registry.Registration;
import io.quantguard.registry.Registry;
import io.quantguard.registry.RolloutRecord;
import io.quantguard.registry.Stage;
import io.quantguard.runtime.Tensor;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} of a serving JVM mid-rollout, on the rollout's real (short) analysis interval:
 * the rollout steps up under traffic, the process is killed, and a new process resumes it at the
 * step the registry recorded, with a change log without gaps.
 */
class RolloutKillTest {
  @TempDir Path tmp;

  @Test
  void aKilledServerResumesTheRolloutAtItsStep() throws Exception {
    String location = tmp.resolve("registry").toString();
    Registry registry = Registry.open(location);
    registry.register(
        new Registration(TestModels.fashionCnn(), "cnn", null, null, null, "fp32", "test"));
    registry.promote(ArtifactRef.of("cnn", 1), Stage.PRODUCTION, "baseline", "test");
    // The same network again as the candidate: a policy it passes, so only traffic moves it.
    io.quantguard.onnx.OnnxModel noted = io.quantguard.onnx.ModelIO.load(TestModels.fashionCnn());
    noted.putMetadata("note", "retrained");
    Path candidate = tmp.resolve("cnn2.onnx");
    io.quantguard.onnx.ModelIO.save(noted, candidate);
    registry.register(new Registration(candidate, "cnn", "cnn@1", null, null, "same", "test"));
    RolloutController.start(
        registry,
        ArtifactRef.of("cnn", 2),
        new RolloutSettings(
            RolloutSettings.Mode.CANARY, List.of(20, 60, 100), Duration.ofMillis(300), 32, 2),
        "name: same\nrules:\n  flip_rate: {max: 0%}\n",
        "same.yaml",
        "kill test",
        "test");

    Process first = child(location);
    String url = url(first);
    try {
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      int i = 0;
      while (registry.activeRollout("cnn").orElseThrow().step() == 0
          && System.nanoTime() < deadline) {
        Tensor images = Responses.images(8, i++);
        Http.Response r =
            Http.post(
                url + "/v2/models/cnn/infer",
                RequestBody.binary("k" + i, Map.of("image", images), true));
        assertThat(r.status()).as(r.text()).isEqualTo(200);
      }
    } finally {
      first.destroyForcibly(); // SIGKILL: no shutdown hook, no drain
      first.waitFor();
    }
    RolloutRecord recorded = registry.activeRollout("cnn").orElseThrow();
    assertThat(recorded.step()).isGreaterThanOrEqualTo(1);
    List<ChangeLogEntry> log = registry.log("cnn", 100);
    for (int k = 1; k < log.size(); k++) {
      assertThat(log.get(k).seq()).isEqualTo(log.get(k - 1).seq() + 1);
    }
    assertThat(log.get(log.size() - 1).details()).containsEntry("step", recorded.step());

    Process second = child(location);
    try {
      Http.Response status = Http.get(url(second) + "/v2/rollouts/cnn");
      assertThat(status.json().path("rollout").path("rollout").asLong()).isEqualTo(recorded.id());
      assertThat(status.json().path("rollout").path("step").asInt()).isEqualTo(recorded.step());
      assertThat(status.json().path("rollout").path("state").asText()).isEqualTo("running");
    } finally {
      second.destroyForcibly();
      second.waitFor();
    }
  }

  private Process child(String location) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
    cmd.add(RolloutChild.class.getName());
    cmd.add(location);
    return new ProcessBuilder(cmd)
        .redirectError(tmp.resolve("child-" + System.nanoTime() + ".err").toFile())
        .start();
  }

  private static String url(Process p) throws Exception {
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = out.readLine()) != null) {
      if (line.startsWith("URL ")) {
        return line.substring(4);
      }
    }
    throw new AssertionError(
        "the serving JVM exited before it listened (exit " + p.waitFor() + ")");
  }
}

package io.quantguard.serve;

import io.quantguard.onnx.ModelIO;
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
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * What routing, pairing and the live window cost under load: the same process serves the FP32 CNN
 * with no rollout ({@code plain}), with a canary of the W4A8 CNN at 25 % ({@code cnn} on server A)
 * and with the W4A8 CNN in shadow ({@code cnn} on server B); rounds alternate so that the noise of
 * a shared machine falls on all of them alike. Closed loop by default (the throughput); with {@code
 * -Dquantguard.rate=R} the clients send R requests per second in all on a schedule, and the
 * latencies are those at that load (what routing, pairing and monitoring add to a request when the
 * cores are not all busy). A measurement, not a test: it runs only with {@code
 * -Dquantguard.measure=true} and prints the figures ({@code -Dquantguard.clients=16}, {@code
 * -Dquantguard.seconds=5}, {@code -Dquantguard.rounds=2}).
 */
@EnabledIfSystemProperty(named = "quantguard.measure", matches = "true")
class RolloutLoadMeasurement {
  @Test
  void measure() throws Exception {
    int clients = Integer.getInteger("quantguard.clients", 16);
    int seconds = Integer.getInteger("quantguard.seconds", 5);
    int rounds = Integer.getInteger("quantguard.rounds", 2);
    double rate = Double.parseDouble(System.getProperty("quantguard.rate", "0"));
    Path tmp = Files.createTempDirectory("rollout-load");
    Path cnn = TestModels.fashionCnn();
    String train = "idx:" + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz");
    Path w4a8 = tmp.resolve("cnn-w4a8.onnx");
    ModelIO.save(
        Quantizer.quantize(
                ModelIO.load(cnn),
                RecipeIO.read(Path.of("..", "recipes", "cnn-w4a8.yaml")),
                DataSpec.parse(train + "?input=image&limit=512"),
                Quantizer.Options.defaults())
            .model(),
        w4a8);
    List<LoadGenerator.Call> calls = new ArrayList<>();
    String test = "idx:" + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz");
    try (BatchStream b = DataSpec.parse(test + "?input=image&limit=256").open(1)) {
      while (b.hasNext()) {
        Batch one = b.next();
        calls.add(
            new LoadGenerator.Call(
                RequestBody.binary(null, Map.of("image", one.inputs().get("image")), true), 200));
      }
    }
    String policy = "name: live\nrules:\n  flip_rate: {max: 10%}\n";
    RolloutSettings canary =
        new RolloutSettings(
            RolloutSettings.Mode.CANARY, List.of(25, 100), Duration.ofHours(1), 1_000_000, 2);
    try (InferenceServer a = server(registry(tmp.resolve("a"), cnn, w4a8), canary, policy, cnn);
        InferenceServer b =
            server(
                registry(tmp.resolve("b"), cnn, w4a8),
                canary.withMode(RolloutSettings.Mode.SHADOW),
                policy,
                cnn)) {
      Map<String, String> targets = new java.util.LinkedHashMap<>();
      targets.put("off (server A)", a.url() + "/v2/models/plain/infer");
      targets.put("canary 25 %", a.url() + "/v2/models/cnn/infer");
      targets.put("shadow", b.url() + "/v2/models/cnn/infer");
      targets.put("off (server B)", b.url() + "/v2/models/plain/infer");
      System.out.printf(
          Locale.ROOT,
          "%d clients, %d s per run, %d rounds, 1 image per request, %s%n",
          clients,
          seconds,
          rounds,
          rate > 0 ? rate + " requests/s on schedule" : "closed loop");
      for (int round = 1; round <= rounds; round++) {
        for (Map.Entry<String, String> t : targets.entrySet()) {
          URI uri = URI.create(t.getValue());
          Duration warmup = Duration.ofSeconds(1);
          Duration duration = Duration.ofSeconds(seconds);
          LoadGenerator.Result r =
              LoadGenerator.run(
                  rate > 0
                      ? LoadGenerator.Plan.atRate(uri, calls, clients, warmup, duration, rate)
                      : new LoadGenerator.Plan(uri, calls, clients, warmup, duration));
          System.out.printf(
              Locale.ROOT,
              "round %d  %-15s ok %6d  errors %d  %7.1f req/s  p50 %6.2f  p95 %6.2f  p99 %6.2f"
                  + " ms%n",
              round,
              t.getKey(),
              r.ok(),
              r.unexpected(),
              r.throughput(),
              r.latency().p50Ms(),
              r.latency().p95Ms(),
              r.latency().p99Ms());
        }
      }
    }
  }

  private static Registry registry(Path dir, Path fp32, Path candidate) {
    Registry r = Registry.open(dir.toString());
    r.register(new Registration(fp32, "cnn", null, null, null, "fp32", "bench"));
    r.promote(ArtifactRef.of("cnn", 1), Stage.PRODUCTION, "baseline", "bench");
    r.register(new Registration(candidate, "cnn", "cnn@1", null, null, "w4a8", "bench"));
    return r;
  }

  private static InferenceServer server(
      Registry registry, RolloutSettings settings, String policy, Path fp32) {
    RolloutController rollout =
        RolloutController.start(
            registry, ArtifactRef.of("cnn", 2), settings, policy, "live.yaml", "bench", "bench");
    return InferenceServer.builder()
        .config(ServerConfig.defaults().withPort(0))
        .rollout(rollout)
        .model(new ModelSource.File("plain", 1, fp32))
        .build()
        .start();
  }
}

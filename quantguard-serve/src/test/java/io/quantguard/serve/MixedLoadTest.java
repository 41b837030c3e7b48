package io.quantguard.serve;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.onnx.TestModels;
import io.quantguard.runtime.Tensor;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Under load from concurrent clients, malformed, oversized, wrong-type, non-finite and
 * wrong-content-type requests get their 4xx and every good request gets 200; afterwards the server
 * is still ready and {@code /metrics} is valid Prometheus text.
 */
class MixedLoadTest {
  @TempDir Path tmp;

  @Test
  void badRequestsDoNotHurtGoodOnes() throws Exception {
    try (InferenceServer server =
        InferenceServer.builder()
            .config(
                ServerConfig.defaults()
                    .withPort(0)
                    .withThreads(2)
                    .withMaxBodyBytes(64 * 1024)
                    .withBatching(new BatchPolicy(16, Duration.ofMillis(2), 1024)))
            .model(new ModelSource.File("cnn", 1, TestModels.fashionCnn()))
            .build()
            .start()) {
      List<LoadGenerator.Call> calls = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        Map<String, Tensor> in = Map.of("image", Responses.images(1 + i % 2, i));
        calls.add(new LoadGenerator.Call(RequestBody.json("good-" + i, in), 200));
        calls.add(new LoadGenerator.Call(RequestBody.binary("bin-" + i, in, i % 2 == 0), 200));
      }
      Map<String, String> json = Map.of("Content-Type", "application/json");
      calls.add(call("{\"inputs\": [", json, 400));
      calls.add(
          call(
              "{\"inputs\":[{\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"INT64\","
                  + "\"data\":[1]}]}",
              json,
              400));
      float[] nan = Responses.images(1, 99).floats().clone();
      nan[5] = Float.NaN;
      calls.add(
          new LoadGenerator.Call(
              RequestBody.binary(null, Map.of("image", Tensor.ofFloats(nan, 1, 1, 28, 28)), false),
              400));
      calls.add(
          new LoadGenerator.Call(
              RequestBody.json(null, Map.of("image", Responses.images(12, 7))), 413));
      calls.add(call("image=1", Map.of("Content-Type", "text/plain"), 415));

      LoadGenerator.Result r =
          LoadGenerator.run(
              new LoadGenerator.Plan(
                  URI.create(server.url() + "/v2/models/cnn/infer"),
                  calls,
                  8,
                  Duration.ofMillis(300),
                  Duration.ofSeconds(3)));

      assertThat(r.unexpected()).as("%s", r.firstUnexpected()).isZero();
      assertThat(r.ok()).isGreaterThan(50);
      assertThat(r.statuses()).containsKeys(200, 400, 413, 415);
      assertThat(Http.get(server.url() + "/v2/health/ready").status()).isEqualTo(200);

      Http.Response metrics = Http.get(server.url() + "/metrics");
      assertThat(metrics.header("Content-Type")).startsWith("text/plain; version=0.0.4");
      String text = metrics.text();
      PrometheusText.check(text, tmp);
      assertThat(text)
          .contains(
              "quantguard_request_duration_seconds_bucket{model=\"cnn\",outcome=\"success\",version=\"1\",le=\"0.005\"}")
          .contains(
              "quantguard_errors_total{endpoint=\"infer\",model=\"cnn\",status=\"413\",type=\"too_large\",version=\"1\"}")
          .contains("quantguard_queue_depth{model=\"cnn\",version=\"1\"}")
          .contains("quantguard_batch_rows_bucket{model=\"cnn\",version=\"1\",le=\"2.0\"}")
          .contains("quantguard_inferences_total{model=\"cnn\",version=\"1\"}")
          .contains("quantguard_process_resident_memory_bytes");
      // Requests counted per run add up to more than the runs: batching happened under load.
      double requests = value(text, "quantguard_batch_requests_total{model=\"cnn\",version=\"1\"}");
      double runs = value(text, "quantguard_batch_rows_count{model=\"cnn\",version=\"1\"}");
      assertThat(requests).isGreaterThan(runs);
    }
  }

  private static LoadGenerator.Call call(String body, Map<String, String> headers, int status) {
    return new LoadGenerator.Call(
        new RequestBody(body.getBytes(StandardCharsets.UTF_8), headers), status);
  }

  private static double value(String metrics, String series) {
    return metrics
        .lines()
        .filter(l -> l.startsWith(series + " "))
        .mapToDouble(l -> Double.parseDouble(l.substring(series.length() + 1)))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no series " + series));
  }
}

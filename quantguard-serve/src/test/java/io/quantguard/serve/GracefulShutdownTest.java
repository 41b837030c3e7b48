package io.quantguard.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.TestModels;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Closing the server (what SIGTERM does through the CLI's shutdown hook) lets requests in flight
 * finish with 200 before the sessions close, and then refuses new connections. A full queue answers
 * 429 with Retry-After.
 */
class GracefulShutdownTest {
  private static boolean refused(CompletableFuture<Http.Response> f) {
    return f.isDone() && f.join().status() == 429;
  }

  @Test
  void requestsInFlightFinishAndAFullQueueAnswers429() throws Exception {
    InferenceServer server =
        InferenceServer.builder()
            .config(
                ServerConfig.defaults()
                    .withPort(0)
                    .withThreads(2)
                    .withBatching(new BatchPolicy(1, Duration.ZERO, 3)))
            .model(new ModelSource.File("minilm", 1, TestModels.miniLm()))
            .build()
            .start();
    String infer = server.url() + "/v2/models/minilm/infer";
    // Eight rows of 256 tokens: a run long enough that the others queue behind it.
    RequestBody slow = RequestBody.binary(null, Responses.tokens(8, 256, 1), true);
    List<CompletableFuture<Http.Response>> sent = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      sent.add(CompletableFuture.supplyAsync(() -> Http.post(infer, slow)));
    }
    // Wait until the queue is full and a request has been turned away with 429.
    InferenceServer.Served served = server.served(new ModelKey("minilm", 1)).orElseThrow();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!(served.batcher().depth() == 3 && sent.stream().anyMatch(GracefulShutdownTest::refused))
        && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    assertThat(served.batcher().depth()).isEqualTo(3);
    server.close();

    int ok = 0;
    for (CompletableFuture<Http.Response> f : sent) {
      Http.Response r = f.join();
      if (r.status() == 429) {
        assertThat(r.header("Retry-After")).isEqualTo("1");
        assertThat(r.json().path("error").asText()).contains("3 requests waiting");
      } else if (r.status() == 503) {
        // Arrived while the server was closing.
        assertThat(r.json().path("error").asText()).contains("stopping");
      } else {
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        ok++;
      }
    }
    // What was queued when the close began finished despite it.
    assertThat(ok).isGreaterThanOrEqualTo(3);
    assertThatThrownBy(() -> Http.get(server.url() + "/v2/health/live"))
        .isInstanceOf(UncheckedIOException.class);
  }
}

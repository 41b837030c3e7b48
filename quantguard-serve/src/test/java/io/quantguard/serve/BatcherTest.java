package io.quantguard.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.TestModels;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The batch worker on the real CNN and MiniLM sessions. The session is wrapped in a gate that holds
 * the first run until the test has queued what it wants, so which requests meet in a batch is
 * certain, not a matter of timing.
 */
class BatcherTest {
  private final CountDownLatch gate = new CountDownLatch(1);
  private final CountDownLatch entered = new CountDownLatch(1);
  private final List<long[]> runShapes = new CopyOnWriteArrayList<>();
  private InferenceSession direct;
  private Batcher batcher;

  @AfterEach
  void close() {
    gate.countDown();
    if (batcher != null) {
      batcher.stop(Duration.ofSeconds(30));
    }
    if (direct != null) {
      direct.close();
    }
  }

  private Batcher open(Path model, BatchPolicy policy) {
    direct = InferenceSession.open(model, SessionConfig.defaults().withThreads(1));
    InferenceSession session =
        InferenceSession.open(model, SessionConfig.defaults().withThreads(1));
    ModelRunner real = ModelRunner.session(session);
    ModelRunner gated =
        new ModelRunner() {
          @Override
          public Map<String, Tensor> run(Map<String, Tensor> inputs, Collection<String> wanted) {
            entered.countDown();
            try {
              gate.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            runShapes.add(inputs.values().iterator().next().shape());
            return real.run(inputs, wanted);
          }

          @Override
          public void close() {
            real.close();
          }
        };
    ModelSignature signature = ModelSignature.of(ModelIO.load(model));
    batcher =
        new Batcher(
            new ModelKey("m", 1),
            signature,
            gated,
            policy,
            new ServerMetrics(new TrafficTimeline(null)));
    return batcher;
  }

  /** Submits a request that the worker runs, and waits until that run is held at the gate. */
  private CompletableFuture<Map<String, Tensor>> blocker(
      Map<String, Tensor> inputs, List<String> out) throws InterruptedException {
    CompletableFuture<Map<String, Tensor>> f = batcher.submit(inputs, out);
    assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
    return f;
  }

  @Test
  void aFullQueueIsRefusedWith429() throws Exception {
    open(TestModels.fashionCnn(), new BatchPolicy(1, Duration.ZERO, 2));
    List<String> out = List.of("logits");
    CompletableFuture<Map<String, Tensor>> a =
        blocker(Map.of("image", Responses.images(1, 1)), out);
    CompletableFuture<Map<String, Tensor>> b =
        batcher.submit(Map.of("image", Responses.images(1, 2)), out);
    CompletableFuture<Map<String, Tensor>> c =
        batcher.submit(Map.of("image", Responses.images(1, 3)), out);
    assertThat(batcher.depth()).isEqualTo(2);
    assertThatThrownBy(() -> batcher.submit(Map.of("image", Responses.images(1, 4)), out))
        .isInstanceOfSatisfying(OipException.class, e -> assertThat(e.status()).isEqualTo(429))
        .hasMessageContaining("model m@1 has 2 requests waiting");
    gate.countDown();
    for (CompletableFuture<Map<String, Tensor>> f : List.of(a, b, c)) {
      assertThat(f.get(30, TimeUnit.SECONDS).get("logits").shape()).containsExactly(1, 10);
    }
    // Batching off: three runs of one row each.
    assertThat(runShapes).extracting(s -> s[0]).containsExactly(1L, 1L, 1L);
  }

  @Test
  void queuedRequestsRunAsOneBatchAndGetTheirOwnRows() throws Exception {
    open(TestModels.fashionCnn(), new BatchPolicy(8, Duration.ofMillis(50), 16));
    List<String> out = List.of("logits");
    blocker(Map.of("image", Responses.images(1, 10)), out);
    List<Tensor> inputs =
        List.of(Responses.images(2, 11), Responses.images(1, 12), Responses.images(3, 13));
    List<CompletableFuture<Map<String, Tensor>>> results = new ArrayList<>();
    for (Tensor t : inputs) {
      results.add(batcher.submit(Map.of("image", t), out));
    }
    gate.countDown();
    for (int i = 0; i < inputs.size(); i++) {
      Tensor got = results.get(i).get(30, TimeUnit.SECONDS).get("logits");
      float[] want = direct.run(Map.of("image", inputs.get(i))).get("logits").floats();
      assertThat(got.shape()).containsExactly(inputs.get(i).batchSize(), 10);
      assertThat(got.floats()).containsExactly(want, Offset.offset(1e-4f));
    }
    // The blocker alone, then the three queued requests stacked: 2 + 1 + 3 rows.
    assertThat(runShapes).extracting(s -> s[0]).containsExactly(1L, 6L);
  }

  @Test
  void requestsOfAnotherShapeAreSetAsideAndStackWithTheirOwnKind() throws Exception {
    open(TestModels.miniLm(), new BatchPolicy(8, Duration.ofMillis(50), 16));
    List<String> out = List.of("last_hidden_state");
    blocker(Responses.tokens(1, 4, 20), out);
    List<CompletableFuture<Map<String, Tensor>>> results = new ArrayList<>();
    int[] lengths = {5, 9, 5, 7, 9, 5, 7};
    for (int i = 0; i < lengths.length; i++) {
      results.add(batcher.submit(Responses.tokens(1, lengths[i], 21 + i), out));
    }
    assertThat(batcher.depth()).isEqualTo(lengths.length);
    gate.countDown();
    for (int i = 0; i < lengths.length; i++) {
      Tensor got = results.get(i).get(30, TimeUnit.SECONDS).get("last_hidden_state");
      float[] want =
          direct.run(Responses.tokens(1, lengths[i], 21 + i)).get("last_hidden_state").floats();
      assertThat(got.shape()).containsExactly(1, lengths[i], 384);
      assertThat(got.floats()).containsExactly(want, Offset.offset(1e-4f));
    }
    // Each length in one batch, in the order of its first request; a length in between does not
    // break a batch up.
    assertThat(runShapes)
        .extracting(s -> s[0] + "x" + s[1])
        .containsExactly("1x4", "3x5", "2x9", "2x7");
    assertThat(batcher.depth()).isZero();
  }

  @Test
  void aRequestThatFailsInABatchFailsAloneAndTheOthersSucceed() throws Exception {
    open(TestModels.miniLm(), new BatchPolicy(8, Duration.ofMillis(50), 16));
    List<String> out = List.of("last_hidden_state");
    blocker(Responses.tokens(1, 6, 30), out);
    Map<String, Tensor> good1 = Responses.tokens(1, 6, 31);
    Map<String, Tensor> bad = new java.util.LinkedHashMap<>(Responses.tokens(1, 6, 32));
    long[] ids = bad.get("input_ids").longs().clone();
    ids[3] = 1_000_000_000L; // far outside the 30,522-token vocabulary: Gather refuses it
    bad.put("input_ids", Tensor.ofLongs(ids, 1, 6));
    Map<String, Tensor> good2 = Responses.tokens(1, 6, 33);
    CompletableFuture<Map<String, Tensor>> f1 = batcher.submit(good1, out);
    CompletableFuture<Map<String, Tensor>> fb = batcher.submit(bad, out);
    CompletableFuture<Map<String, Tensor>> f2 = batcher.submit(good2, out);
    gate.countDown();
    assertThat(f1.get(30, TimeUnit.SECONDS).get("last_hidden_state").floats())
        .containsExactly(direct.run(good1).get("last_hidden_state").floats(), Offset.offset(1e-4f));
    assertThat(f2.get(30, TimeUnit.SECONDS).get("last_hidden_state").floats())
        .containsExactly(direct.run(good2).get("last_hidden_state").floats(), Offset.offset(1e-4f));
    assertThatThrownBy(() -> fb.join())
        .isInstanceOf(CompletionException.class)
        .hasCauseInstanceOf(InvalidInputException.class);
    // The stacked run of three failed; each then ran alone.
    assertThat(runShapes).extracting(s -> s[0]).containsExactly(1L, 3L, 1L, 1L, 1L);
  }

  @Test
  void stopFinishesWhatIsQueuedThenRefuses() throws Exception {
    open(TestModels.fashionCnn(), new BatchPolicy(1, Duration.ZERO, 8));
    List<String> out = List.of("logits");
    CompletableFuture<Map<String, Tensor>> a =
        blocker(Map.of("image", Responses.images(1, 40)), out);
    CompletableFuture<Map<String, Tensor>> b =
        batcher.submit(Map.of("image", Responses.images(1, 41)), out);
    CompletableFuture<Void> stopped =
        CompletableFuture.runAsync(() -> batcher.stop(Duration.ofSeconds(30)));
    Thread.sleep(50);
    assertThatThrownBy(() -> batcher.submit(Map.of("image", Responses.images(1, 42)), out))
        .isInstanceOfSatisfying(OipException.class, e -> assertThat(e.status()).isEqualTo(503));
    gate.countDown();
    stopped.get(30, TimeUnit.SECONDS);
    assertThat(a).isCompleted();
    assertThat(b.get().get("logits").shape()).containsExactly(1, 10);
  }
}

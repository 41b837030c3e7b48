package io.quantguard.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.quantguard.onnx.TestModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Sessions on the process's global thread pool. ONNX Runtime sets that pool up only when the
 * process's environment is created, so this class runs in a JVM of its own (the runtime module's
 * {@code global-thread-pool} surefire execution) where its sessions are the first.
 */
class GlobalThreadPoolTest {
  private static final SessionConfig GLOBAL_2 =
      SessionConfig.defaults().withThreads(2).withThreadPool(SessionConfig.ThreadPool.GLOBAL);
  private static final Path CNN = TestModels.fashionCnn();

  /** Opens a global-pool session, skipping the test where another class opened a session first. */
  private static InferenceSession openGlobal() {
    InferenceSession s = null;
    try {
      s = InferenceSession.open(CNN, GLOBAL_2);
    } catch (IllegalStateException e) {
      assumeTrue(
          false,
          "a session of another test class created this JVM's ONNX Runtime environment first;"
              + " run this class on its own (mvn runs it in a JVM of its own): "
              + e.getMessage());
    }
    return s;
  }

  @Test
  void twoSessionsOnTheGlobalPoolRunConcurrentlyAndAgreeWithPerSessionPools() throws Exception {
    List<Map<String, Tensor>> feeds = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      feeds.add(Map.of("image", InferenceSessionTest.images(4, 100 + i)));
    }
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try (InferenceSession baseline = openGlobal();
        InferenceSession canary = InferenceSession.open(CNN, GLOBAL_2)) {
      List<float[]> reference = new ArrayList<>();
      try (InferenceSession own = InferenceSession.open(CNN, SessionConfig.defaults())) {
        for (Map<String, Tensor> f : feeds) {
          reference.add(own.run(f).get("logits").floats());
        }
      }
      List<Future<List<float[]>>> runs = new ArrayList<>();
      for (InferenceSession s : List.of(baseline, canary)) {
        runs.add(
            threads.submit(
                () -> {
                  List<float[]> out = new ArrayList<>();
                  for (int round = 0; round < 10; round++) {
                    for (Map<String, Tensor> f : feeds) {
                      out.add(s.run(f).get("logits").floats());
                    }
                  }
                  return out;
                }));
      }
      for (Future<List<float[]>> r : runs) {
        List<float[]> out = r.get();
        assertThat(out).hasSize(10 * feeds.size());
        for (int i = 0; i < out.size(); i++) {
          float[] want = reference.get(i % feeds.size());
          for (int k = 0; k < want.length; k++) {
            assertThat(out.get(i)[k]).isCloseTo(want[k], within(1e-4f));
          }
        }
      }
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void aGlobalPoolOfOtherThreadCountsIsRefusedAndNamesBoth() {
    try (InferenceSession first = openGlobal()) {
      SessionConfig three = GLOBAL_2.withThreads(3);
      assertThatThrownBy(() -> InferenceSession.open(CNN, three))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("with 3 intra-op and 1 inter-op threads")
          .hasMessageContaining("has a global thread pool of 2 intra-op and 1 inter-op threads");
      try (InferenceSession own = InferenceSession.open(CNN, SessionConfig.defaults())) {
        assertThat(
                own.run(Map.of("image", InferenceSessionTest.images(1, 1))).get("logits").shape())
            .as("sessions with threads of their own still open beside the global pool")
            .containsExactly(1, 10);
      }
      assertThat(first.config().toString()).endsWith("on the process's global thread pool");
    }
  }
}

package io.quantguard.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Closing and swapping sessions while other threads run them, on the Fashion-MNIST CNN: no crash,
 * and every request either completes with the right answer or is refused before it started.
 */
class SessionDrainTest {
  private static final SessionConfig ONE_THREAD = SessionConfig.defaults().withThreads(1);
  private static final int WORKERS = 4;
  private static final Path CNN = TestModels.fashionCnn();
  private static final Map<String, Tensor> FEED =
      Map.of("image", InferenceSessionTest.images(1, 5));

  private static float[] expected;
  private static ExecutorService workers;

  @BeforeAll
  static void reference() {
    try (InferenceSession s = InferenceSession.open(CNN, ONE_THREAD)) {
      expected = s.run(FEED).get("logits").floats();
    }
    workers = Executors.newFixedThreadPool(WORKERS);
  }

  @AfterAll
  static void stop() {
    workers.shutdownNow();
  }

  @Test
  void closeWaitsForLeasesAndTheLastLeaseReleasesTheSession() throws Exception {
    InferenceSession s = InferenceSession.open(CNN, ONE_THREAD);
    SessionLease lease = s.lease();
    Future<Boolean> closing = workers.submit(() -> s.close(InferenceSession.DRAIN));
    Thread.sleep(200);
    assertThat(closing).as("close() waits while a lease is held").isNotDone();
    assertThatThrownBy(() -> s.run(FEED)).isInstanceOf(SessionClosedException.class);
    assertThatThrownBy(s::lease).isInstanceOf(SessionClosedException.class);
    assertThat(lease.run(FEED).get("logits").floats())
        .as("a held lease still runs after close began")
        .containsExactly(expected);
    lease.close();
    assertThat(closing.get()).as("released once the lease was returned").isTrue();
    lease.close();
    assertThatThrownBy(() -> lease.run(FEED))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("returned");
    assertThat(s.close(Duration.ZERO)).as("close is idempotent").isTrue();
  }

  @Test
  void aCloseThatOutwaitsItsDrainLeavesTheReleaseToTheLastLease() {
    InferenceSession s = InferenceSession.open(CNN, ONE_THREAD);
    SessionLease first = s.lease();
    SessionLease second = s.lease();
    assertThat(s.close(Duration.ofMillis(20))).isFalse();
    first.close();
    assertThat(s.close(Duration.ZERO)).as("one lease is still out").isFalse();
    assertThat(second.run(FEED).get("logits").floats()).containsExactly(expected);
    second.close();
    assertThat(s.close(Duration.ZERO)).isTrue();
  }

  /**
   * 200 rounds: four threads run one session flat out while the test closes it after a varying
   * number of completed runs. Closing mid-run is what used to crash the JVM.
   */
  @Test
  void runsRacingACloseEitherCompleteOrAreRefusedBeforeTheyStart() throws Exception {
    int completedInAll = 0;
    int refusedInAll = 0;
    for (int round = 0; round < 200; round++) {
      InferenceSession s = InferenceSession.open(CNN, ONE_THREAD);
      AtomicBoolean closeBegan = new AtomicBoolean();
      AtomicInteger completed = new AtomicInteger();
      AtomicInteger refused = new AtomicInteger();
      List<Future<?>> running = new ArrayList<>();
      for (int w = 0; w < WORKERS; w++) {
        running.add(
            workers.submit(
                () -> {
                  while (true) {
                    try {
                      float[] y = s.run(FEED).get("logits").floats();
                      assertThat(y).containsExactly(expected);
                      completed.incrementAndGet();
                    } catch (SessionClosedException e) {
                      assertThat(closeBegan).as("refused only once close began").isTrue();
                      refused.incrementAndGet();
                      return null;
                    }
                  }
                }));
      }
      int closeAfter = round % 9;
      while (completed.get() < closeAfter) {
        Thread.onSpinWait();
      }
      closeBegan.set(true);
      assertThat(s.close(InferenceSession.DRAIN)).as("released within the drain").isTrue();
      for (Future<?> f : running) {
        f.get(); // rethrows a worker's failed assertion or unexpected exception
      }
      assertThat(refused.get()).isEqualTo(WORKERS);
      assertThatThrownBy(() -> s.run(FEED)).isInstanceOf(SessionClosedException.class);
      completedInAll += completed.get();
      refusedInAll += refused.get();
    }
    assertThat(refusedInAll).isEqualTo(200 * WORKERS);
    assertThat(completedInAll).isGreaterThanOrEqualTo(4 * 200);
  }

  /**
   * 200 swaps of the session behind a holder while four threads send it requests: not one request
   * fails, every answer is right, and every retired session is released.
   */
  @Test
  void swappingUnderLoadFailsNoRequest() throws Exception {
    SessionHolder holder = new SessionHolder(InferenceSession.open(CNN, ONE_THREAD));
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger answered = new AtomicInteger();
    List<Future<?>> running = new ArrayList<>();
    for (int w = 0; w < WORKERS; w++) {
      running.add(
          workers.submit(
              () -> {
                while (!stop.get()) {
                  assertThat(holder.run(FEED).get("logits").floats()).containsExactly(expected);
                  answered.incrementAndGet();
                }
                return null;
              }));
    }
    List<InferenceSession> retired = new ArrayList<>();
    for (int swap = 0; swap < 200; swap++) {
      InferenceSession next = InferenceSession.open(CNN, ONE_THREAD);
      try (SessionLease lease = holder.lease()) {
        retired.add(lease.session());
      }
      assertThat(holder.swap(next)).as("swap %d released the retired session", swap).isTrue();
    }
    stop.set(true);
    for (Future<?> f : running) {
      f.get();
    }
    assertThat(answered.get()).isGreaterThanOrEqualTo(200);
    assertThat(retired).hasSize(200).doesNotHaveDuplicates();
    for (InferenceSession r : retired) {
      assertThatThrownBy(() -> r.run(FEED)).isInstanceOf(SessionClosedException.class);
    }
    holder.close();
    holder.close();
    assertThatThrownBy(() -> holder.run(FEED)).isInstanceOf(SessionClosedException.class);
    InferenceSession spare = InferenceSession.open(CNN, ONE_THREAD);
    assertThatThrownBy(() -> holder.swap(spare)).isInstanceOf(IllegalStateException.class);
    assertThat(spare.run(FEED).get("logits").floats())
        .as("a refused swap leaves the session with its caller, open")
        .containsExactly(expected);
    spare.close();
  }
}

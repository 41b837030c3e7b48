package io.quantguard.serve;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The switching rule on its own, window by window: latencies and request counts are fed as the
 * server would and each window is judged by hand (the clock is not started), so every step of the
 * hysteresis is checked without a machine's timing in the way. The end-to-end check on the real CNN
 * under load is {@link AdaptiveVariantTest}.
 */
class VariantSelectorTest {
  private static final ModelKey FP32 = new ModelKey("cnn", 1);
  private static final ModelKey INT8 = new ModelKey("cnn", 2);
  private static final long MS = 1_000_000;

  /** p95 <= 20 ms, 1 s windows of 50 requests, 2 windows to agree, exit at 60 %. */
  private static VariantSelector selector(Duration dwell) {
    VariantSelector s =
        new VariantSelector(
            "cnn",
            AdaptiveSettings.of(LatencyObjective.parse("p95<=20ms")).withDwell(dwell),
            "test");
    s.begin(
        List.of(
            new VariantSelector.Variant(FP32, 1.2, 1),
            new VariantSelector.Variant(INT8, 1.0, 1 / 1.2)),
        Map.of(3, "failed its audit"),
        null,
        new SimpleMeterRegistry());
    return s;
  }

  /** One window: {@code requests} answered by {@code key} in {@code millis} each. */
  private static void window(VariantSelector s, ModelKey key, int requests, long millis) {
    for (int i = 0; i < requests; i++) {
      s.record(key, 200, millis * MS);
    }
    s.judge();
  }

  @Test
  void twoBreachingWindowsSwitchToTheFasterVariantOneDoesNot() {
    VariantSelector s = selector(Duration.ZERO);
    window(s, FP32, 400, 5);
    window(s, FP32, 400, 30);
    assertThat(s.active()).contains(FP32);
    window(s, FP32, 400, 5);
    window(s, FP32, 400, 30);
    assertThat(s.active()).as("a calm window between breaches resets them").contains(FP32);
    window(s, FP32, 400, 30);
    assertThat(s.active()).contains(INT8);
    assertThat(s.switches()).singleElement().satisfies(w -> assertThat(w.to()).isEqualTo(2));
    assertThat(s.switches().get(0).reason()).contains("breaks the objective p95 <= 20 ms");
  }

  @Test
  void theSameLoadOnTheFasterVariantDoesNotSwitchBack() {
    VariantSelector s = selector(Duration.ZERO);
    window(s, FP32, 400, 30);
    window(s, FP32, 400, 30);
    assertThat(s.active()).contains(INT8);
    // int8 answers the same load well within the objective: a probe-ratio prediction alone (5 ms
    // x 1.2) would switch back, but the rate has not fallen below 60 % of the 400 that broke FP32.
    for (int i = 0; i < 10; i++) {
      window(s, INT8, 450, 5);
    }
    assertThat(s.active()).contains(INT8);
    window(s, INT8, 200, 5);
    assertThat(s.active()).as("one calm window is not enough").contains(INT8);
    window(s, INT8, 200, 5);
    assertThat(s.active()).contains(FP32);
    assertThat(s.switches())
        .extracting(VariantSelector.Switch::direction)
        .containsExactly("faster", "slower");
    assertThat(s.switches().get(1).reason()).contains("load fell: 200 requests/s");
  }

  @Test
  void aFallenRateWithALatencyTheSlowerVariantWouldBreakStays() {
    VariantSelector s = selector(Duration.ZERO);
    window(s, FP32, 400, 30);
    window(s, FP32, 400, 30);
    // Few requests but slow ones: 12 ms x 1.2 predicts 14.4 ms on FP32, over 60 % of 20 ms.
    for (int i = 0; i < 5; i++) {
      window(s, INT8, 100, 12);
    }
    assertThat(s.active()).contains(INT8);
  }

  @Test
  void quietWindowsCountAsLoadThatFell() {
    VariantSelector s = selector(Duration.ZERO);
    window(s, FP32, 400, 30);
    window(s, FP32, 400, 30);
    window(s, INT8, 10, 50);
    window(s, INT8, 0, 0);
    assertThat(s.active()).contains(FP32);
    assertThat(s.switches().get(1).reason()).contains("fewer than 50");
  }

  @Test
  void noSwitchWithinTheDwellTime() {
    VariantSelector s = selector(Duration.ofHours(1));
    for (int i = 0; i < 5; i++) {
      window(s, FP32, 400, 30);
    }
    assertThat(s.active()).contains(FP32);
    assertThat(s.switches()).isEmpty();
  }

  @Test
  void theFastestVariantHasNowhereFasterToGoAndRejectionsCountAsBreaches() {
    VariantSelector s = selector(Duration.ZERO);
    for (int i = 0; i < 2; i++) {
      for (int r = 0; r < 400; r++) {
        s.record(FP32, r % 10 == 0 ? 429 : 200, 2 * MS);
      }
      s.judge();
    }
    assertThat(s.active())
        .as("one request in ten answered 429 puts p95 past the objective")
        .contains(INT8);
    for (int i = 0; i < 5; i++) {
      window(s, INT8, 800, 100);
    }
    assertThat(s.switches()).hasSize(1);
    assertThat(s.status())
        .containsEntry("active", 2)
        .containsEntry("refused", Map.of(3, "failed its audit"))
        .containsEntry("switches", 1L);
  }
}

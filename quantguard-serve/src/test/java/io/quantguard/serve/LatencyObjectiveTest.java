package io.quantguard.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.InvalidInputException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class LatencyObjectiveTest {
  @Test
  void readsThePercentileAndTheLimitInEveryUnit() {
    assertThat(LatencyObjective.parse("p95<=20ms"))
        .isEqualTo(new LatencyObjective(95, Duration.ofMillis(20)));
    assertThat(LatencyObjective.parse(" p99.9 ≤ 0.5 s ").limit()).isEqualTo(Duration.ofMillis(500));
    assertThat(LatencyObjective.parse("P50 <= 750us").limitMillis()).isEqualTo(0.75);
    assertThat(LatencyObjective.parse("p95<=12.5ms")).hasToString("p95 <= 12.5 ms");
  }

  @Test
  void refusesWhatIsNoObjective() {
    for (String bad :
        new String[] {"fast", "p95<20ms", "p95<=20", "p100<=5ms", "p0<=5ms", "p95<=0ms"}) {
      assertThatThrownBy(() -> LatencyObjective.parse(bad))
          .as(bad)
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("adaptive.objective");
    }
  }

  @Test
  void settingsKeepTheExitThresholdBelowTheEntry() {
    AdaptiveSettings s = AdaptiveSettings.of(LatencyObjective.parse("p95<=20ms"));
    assertThatThrownBy(() -> s.withExitShare(1))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("adaptive.exitShare");
    assertThatThrownBy(() -> s.withWindow(Duration.ZERO))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("adaptive.window");
  }
}

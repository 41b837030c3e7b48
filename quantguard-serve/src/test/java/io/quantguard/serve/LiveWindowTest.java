package io.quantguard.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.quantguard.report.Judgement;
import io.quantguard.report.Policy;
import io.quantguard.runtime.Tensor;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The live window's numbers against hand-computed ones, and the policy judging them. */
class LiveWindowTest {
  private static final ModelKey BASE = new ModelKey("m", 1);
  private static final ModelKey CAND = new ModelKey("m", 2);

  private static Outcome ok(ModelKey key, long millis, float... logits) {
    return new Outcome.Success(
        key,
        Map.of("logits", Tensor.ofFloats(logits, new long[] {logits.length / 2, 2})),
        millis * 1_000_000);
  }

  @Test
  void pairsRowsOfTheCandidateWithTheBaselineWhicheverAnswered() {
    LiveWindow w = new LiveWindow(CAND, BASE);
    Map<String, Tensor> in = Map.of();
    // Canary: the candidate answered, the baseline ran as shadow. Row 1 agrees (cos 1), row 2 flips
    // (b = (1, 0), c = (0, 1): cos 0).
    w.add(new Exchange("a", in, ok(CAND, 4, 2, 1, 0, 1), ok(BASE, 2, 4, 2, 1, 0)));
    // Shadow: the baseline answered; the candidate failed.
    w.add(new Exchange("b", in, ok(BASE, 2, 1, 0), new Outcome.Failure(CAND, 500, "boom", 1)));
    // Another model's exchange changes nothing.
    w.add(new Exchange("c", in, ok(new ModelKey("x", 1), 1, 1, 0), null));

    assertThat(w.paired()).isEqualTo(2);
    assertThat(w.find("m@2", "all", "flip_rate").orElseThrow().value()).isEqualTo(0.5);
    assertThat(w.find("m@2", "all", "cosine_mean").orElseThrow().value())
        .isCloseTo(0.5, within(1e-12));
    assertThat(w.find("m@2", "all", "cosine_min").orElseThrow().value()).isEqualTo(0.0);
    // signal = |(4,2)|² + |(1,0)|² = 21; noise = |(−2,−1)|² + |(−1,1)|² = 7: 10 log10 3.
    assertThat(w.find("m@2", "all", "sqnr_db").orElseThrow().value())
        .isCloseTo(10 * Math.log10(3), within(1e-9));
    var errors = w.find("m@2", "all", "error_rate").orElseThrow();
    assertThat(errors.value()).isEqualTo(0.5);
    assertThat(errors.baseline()).isEqualTo(0.0);
    var p95 = w.find("m@2", "all", "latency_p95").orElseThrow();
    assertThat(p95.value()).isCloseTo(4.0, within(0.01));
    assertThat(p95.baseline()).isCloseTo(2.0, within(0.01));
    assertThat(w.slices("m@2"))
        .containsExactly(new io.quantguard.report.Measurements.Slice("all", 2));

    Judgement j =
        Policy.parse(
                "name: t\nrules:\n  flip_rate: {max: 60%}\n  latency_p95: {max_ratio: 1.5}\n", "t")
            .judge(w);
    assertThat(j.passed()).isFalse();
    assertThat(j.failures())
        .singleElement()
        .satisfies(v -> assertThat(v.message()).contains("latency_p95 ratio"));
  }
}

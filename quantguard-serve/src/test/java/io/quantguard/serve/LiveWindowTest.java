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

  /**
   * Token states [1, tokens, 2] whose second token is padding: pooled over the mask, the sentence
   * embedding is the first token's, so the cosine is the one chosen; the padded token, were it
   * counted, would pull every cosine towards 1.
   */
  private static Exchange sentence(String id, double cos) {
    float[] base = {1, 0, 50, 0};
    float[] cand = {(float) cos, (float) Math.sqrt(1 - cos * cos), 50, 0};
    Map<String, Tensor> in = Map.of("attention_mask", Tensor.ofLongs(new long[] {1, 0}, 1, 2));
    return new Exchange(
        id,
        in,
        new Outcome.Success(BASE, Map.of("last_hidden_state", Tensor.ofFloats(base, 1, 2, 2)), 1),
        new Outcome.Success(CAND, Map.of("last_hidden_state", Tensor.ofFloats(cand, 1, 2, 2)), 1));
  }

  @Test
  void reportsTheTailOfThePooledSentenceCosinesAsTheOfflineTaskDoes() {
    LiveWindow w = new LiveWindow(CAND, BASE);
    // 200 requests: 194 identical, 4 at cosine 0.985, 2 at 0.9
    for (int i = 0; i < 200; i++) {
      w.add(sentence("r" + i, i < 2 ? 0.9 : i < 6 ? 0.985 : 1.0));
    }
    assertThat(w.find("m@2", "all", "cosine_min").orElseThrow().value())
        .isCloseTo(0.9, within(1e-6));
    // type 7 over 200 values: p1 at h = 1.99, between the 2nd and 3rd lowest (0.9 and 0.985),
    // within the tail histogram's half bin, (1 − cos)/128 of the lower one
    assertThat(w.find("m@2", "all", "cosine_p1").orElseThrow().value())
        .isCloseTo(0.9 + 0.99 * 0.085, within(0.1 / 128));
    assertThat(w.find("m@2", "all", "cosine_below_0_98").orElseThrow().value())
        .isCloseTo(0.01, within(1e-12));
    assertThat(w.find("m@2", "all", "cosine_below_0_99").orElseThrow().value())
        .isCloseTo(0.03, within(1e-12));
    assertThat(w.summary()).containsKeys("cosine_p0_1", "cosine_p5", "cosine_below_0_95");

    // the release policy's tail rules, judged live by the same code as gate
    Judgement j =
        Policy.parse(
                "name: t\nrules:\n  cosine_p1: {min: 0.99}\n  cosine_below_0_98: {max: 0.5%}\n",
                "t")
            .judge(w);
    assertThat(j.failures())
        .extracting(v -> v.rule().metric())
        .containsExactlyInAnyOrder("cosine_p1", "cosine_below_0_98");
  }

  /** One row: (1, 0) from the baseline; the candidate agrees, or flips to (0, 1). */
  private static Exchange tagged(String slice, boolean flip) {
    return new Exchange(
        null, Map.of(), ok(CAND, 3, flip ? 0 : 1, flip ? 1 : 0), ok(BASE, 2, 1, 0), slice);
  }

  @Test
  void keepsTheSameFiguresPerSliceForAtMostTheLimitOfNamesAndFoldsTheRestIntoOther() {
    LiveWindow w = new LiveWindow(CAND, BASE, new TrafficSlices(TrafficSlices.DEFAULT_LIMIT));
    // another model's tagged exchange takes no slice name
    w.add(new Exchange(null, Map.of(), ok(new ModelKey("x", 1), 1, 1, 0), null, "elsewhere"));
    // slice "bad": 4 rows, 3 flipped; slice "good": 6 rows, none; 40 more names of one row each
    for (int i = 0; i < 4; i++) {
      w.add(tagged("bad", i < 3));
    }
    for (int i = 0; i < 6; i++) {
      w.add(tagged("good", false));
    }
    for (int i = 0; i < 40; i++) {
      w.add(tagged("s" + i, i % 2 == 0));
    }
    w.add(new Exchange(null, Map.of(), ok(CAND, 3, 1, 0), ok(BASE, 2, 1, 0)));

    assertThat(w.paired()).isEqualTo(51);
    Map<String, LiveWindow> slices = w.bySlice();
    // 32 names kept (bad, good, s0 … s29), s30 … s39 in other: 33 windows, never more
    assertThat(slices).hasSize(TrafficSlices.DEFAULT_LIMIT + 1);
    assertThat(slices).containsKeys("bad", "good", "s29", TrafficSlices.OTHER);
    assertThat(slices).doesNotContainKeys("s30", "elsewhere");
    LiveWindow bad = slices.get("bad");
    assertThat(bad.paired()).isEqualTo(4);
    assertThat(bad.find("m@2", "all", "flip_rate").orElseThrow().value()).isEqualTo(0.75);
    assertThat(slices.get("good").find("m@2", "all", "flip_rate").orElseThrow().value())
        .isEqualTo(0.0);
    // s30 … s39: the even ones flipped
    LiveWindow other = slices.get(TrafficSlices.OTHER);
    assertThat(other.paired()).isEqualTo(10);
    assertThat(other.find("m@2", "all", "flip_rate").orElseThrow().value()).isEqualTo(0.5);
    assertThat(other.source()).endsWith("on slice other");
    assertThat(w.find("m@2", "all", "flip_rate").orElseThrow().value())
        .isCloseTo((3 + 20) / 51.0, within(1e-12));
    @SuppressWarnings("unchecked")
    Map<String, Object> summary = (Map<String, Object>) w.summary().get("slices");
    assertThat(summary).hasSize(33);

    // the same policy code judges a slice: the mean holds, the slice "bad" does not
    Policy p = Policy.parse("name: t\nrules:\n  flip_rate: {max: 50%}\n", "t");
    assertThat(p.judge(w).passed()).isTrue();
    assertThat(p.judge(bad).passed()).isFalse();
  }

  @Test
  void aBadSliceTagIsRefused() {
    assertThat(TrafficSlices.check("night-shift_2.eu", "the header")).isEqualTo("night-shift_2.eu");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> TrafficSlices.check("a b", "parameters.slice"))
        .isInstanceOf(OipException.class)
        .hasMessageContaining("parameters.slice is 'a b'");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> TrafficSlices.check("x".repeat(65), "the header"))
        .isInstanceOf(OipException.class);
  }
}

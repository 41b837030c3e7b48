package io.quantguard.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.InvalidInputException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A policy judges measurements that are not an evaluation report: a canary's live window, with
 * paired request counts per slice, a flip rate with an interval, an error rate, a drift score and a
 * latency ratio, as the serving module computes them from its accumulators.
 */
class MeasurementsTest {
  static final String POLICY =
      """
      name: canary
      rules:
        flip_rate: {max: 2%, per_slice: true, min_samples: 100}
        error_rate: {max: 0.01}
        input_psi: {max: 0.2}
        latency_p95: {max_ratio: 1.2}
      """;

  /** A live window: one canary against production, two regions. */
  record Window(long requests, long euRequests, double flipRate, double euFlipRate, double p95)
      implements Measurements {
    @Override
    public String source() {
      return "the canary window";
    }

    @Override
    public String task() {
      return "classification";
    }

    @Override
    public List<String> candidates() {
      return List.of("model@3");
    }

    @Override
    public List<Slice> slices(String candidate) {
      return List.of(
          new Slice("all", requests),
          new Slice("region=eu", euRequests),
          new Slice("region=us", requests - euRequests));
    }

    @Override
    public Optional<Measure> find(String candidate, String slice, String metric) {
      double flips = slice.equals("region=eu") ? euFlipRate : flipRate;
      long n =
          slices(candidate).stream()
              .filter(s -> s.name().equals(slice))
              .findFirst()
              .get()
              .samples();
      double half = 1.96 * Math.sqrt(flips * (1 - flips) / n);
      Map<String, Measure> all =
          Map.of(
              "flip_rate",
              new Measure(
                  "flip_rate",
                  Measure.Source.METRIC,
                  false,
                  true,
                  flips,
                  flips - half,
                  flips + half,
                  null,
                  null,
                  null,
                  null),
              "error_rate",
              new Measure(
                  "error_rate",
                  Measure.Source.FIGURE,
                  false,
                  false,
                  0.001,
                  null,
                  null,
                  0.001,
                  0.0,
                  null,
                  null),
              "input_psi",
              new Measure(
                  "input_psi",
                  Measure.Source.FIGURE,
                  false,
                  true,
                  0.05,
                  null,
                  null,
                  null,
                  null,
                  null,
                  null),
              "latency_p95",
              new Measure(
                  "latency_p95",
                  Measure.Source.COST,
                  false,
                  false,
                  p95,
                  null,
                  null,
                  10.0,
                  p95 - 10.0,
                  null,
                  null));
      return Optional.ofNullable(all.get(metric));
    }

    @Override
    public List<String> metrics() {
      return List.of("flip_rate", "error_rate", "input_psi", "latency_p95");
    }
  }

  @Test
  void aQuietCanaryPassesAndASmallSliceIsSkipped() {
    Judgement j = Policy.parse(POLICY, "canary.yaml").judge(new Window(5000, 60, 0.01, 0.5, 11));
    assertThat(j.passed()).isTrue();
    assertThat(j.task()).isEqualTo("classification");
    assertThat(j.candidates()).containsExactly("model@3");
    // flip_rate on all, region=eu (skipped: 60 < 100 requests), region=us; three other rules
    assertThat(j.verdicts()).hasSize(6);
    RuleVerdict eu = j.verdicts().get(1);
    assertThat(eu.slice()).isEqualTo("region=eu");
    assertThat(eu.outcome()).isEqualTo(RuleVerdict.Outcome.SKIPPED);
    assertThat(eu.note()).contains("60 samples, fewer than min_samples 100");
    RuleVerdict latency = j.verdicts().get(5);
    assertThat(latency.measured()).isEqualTo(1.1);
    assertThat(latency.outcome()).isEqualTo(RuleVerdict.Outcome.PASS);
  }

  @Test
  void flipsOnOneSliceAndASlowCanaryFail() {
    Judgement j = Policy.parse(POLICY, "canary.yaml").judge(new Window(5000, 1000, 0.01, 0.04, 13));
    assertThat(j.passed()).isFalse();
    assertThat(j.failures())
        .extracting(RuleVerdict::slice, v -> v.rule().metric())
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("region=eu", "flip_rate"),
            org.assertj.core.groups.Tuple.tuple("all", "latency_p95"));
    assertThat(j.failures().get(1).measured()).isEqualTo(1.3);
    assertThat(j.failures().get(1).margin()).isNegative();
  }

  @Test
  void aRuleOnAnUnmeasuredMetricNamesTheWindowAndWhatItHas() {
    Policy p = Policy.parse("rules:\n  accuracy: {max_drop: 1%}\n", "canary.yaml");
    assertThatThrownBy(() -> p.judge(new Window(5000, 60, 0.01, 0.01, 10)))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("the canary window has no metric 'accuracy' (task classification)")
        .hasMessageContaining(
            "metrics in the canary window: flip_rate, error_rate, input_psi, latency_p95");
    Policy perSlice =
        Policy.parse("rules:\n  latency_p95: {max_ratio: 1.2, per_slice: true}\n", "c.yaml");
    assertThatThrownBy(() -> perSlice.judge(new Window(5000, 60, 0.01, 0.01, 10)))
        .hasMessageContaining("measured per model, not per slice");
  }
}

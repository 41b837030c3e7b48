package io.quantguard.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Limits on the cosine's tail: a candidate with a high mean cosine whose worst few percent of
 * samples collapse passes a policy on the mean and fails one on the tail. Reports written before
 * the tail metrics existed still read and judge.
 */
class TailPolicyTest {
  /**
   * An embedding report as the evaluation writes it: mean cosine 0.9977 (97 % of the samples
   * identical to FP32), 1st percentile 0.984, 1 % of the samples below 0.98.
   */
  static final String TAIL =
      """
      {"schema": "quantguard.evaluate/1",
       "task": {"name": "embedding", "spec": "embedding"},
       "data": [], "warnings": [],
       "models": [
         {"name": "fp32", "role": "baseline", "sizeBytes": 100,
          "slices": [{"slice": "all", "samples": 1000, "figures": {}, "metrics": []}]},
         {"name": "int8", "role": "candidate", "sizeBytes": 30,
          "slices": [{"slice": "all", "samples": 1000, "figures": {"cosine_min": 0.9},
                      "metrics": [
            {"name": "cosine_mean", "higherIsBetter": true, "vsBaseline": true,
             "value": 0.9977, "low": 0.9969, "high": 0.9984},
            {"name": "cosine_p1", "higherIsBetter": true, "vsBaseline": true,
             "value": 0.98415, "low": 0.9, "high": 0.985},
            {"name": "cosine_below_0_98", "higherIsBetter": false, "vsBaseline": true,
             "value": 0.01, "low": 0.005, "high": 0.017}]}]}]}
      """;

  @Test
  void aCandidateThatPassesOnTheMeanFailsOnTheTail() {
    EvaluationReport r = ReportReader.parse(TAIL, "report.json");
    Judgement mean = Policy.parse("rules:\n  cosine_mean: {min: 0.995}\n", "p.yaml").judge(r);
    assertThat(mean.passed()).isTrue();
    Judgement tail =
        Policy.parse(
                """
                rules:
                  cosine_mean: {min: 0.995}
                  cosine_p1: {min: 0.99}
                  cosine_below_0_98: {max: 0.5%}
                """,
                "p.yaml")
            .judge(r);
    assertThat(tail.passed()).isFalse();
    assertThat(tail.verdicts())
        .extracting(v -> v.rule().metric() + " " + v.outcome())
        .containsExactly("cosine_mean PASS", "cosine_p1 FAIL", "cosine_below_0_98 FAIL");
    RuleVerdict below = tail.verdicts().get(2);
    assertThat(below.rule().limit().threshold()).isEqualTo(0.005);
    assertThat(below.margin()).isCloseTo(-0.005, within(1e-12));
  }

  @Test
  void theWorstBoundOfATailShareIsTheUpperEndOfItsInterval() {
    EvaluationReport r = ReportReader.parse(TAIL, "report.json");
    Judgement j =
        Policy.parse("rules:\n  cosine_below_0_98: {max: 1.5%, use: worst_bound}\n", "p.yaml")
            .judge(r);
    assertThat(j.verdicts().get(0).measured()).isEqualTo(0.017);
    assertThat(j.passed()).isFalse();
  }

  @Test
  void theShippedMiniLmPolicyLimitsTheTailAsWellAsTheMean() {
    Policy p = Policy.read(Path.of("..", "policies", "minilm-release.yaml"));
    assertThat(p.rules())
        .extracting(Rule::metric)
        .contains("cosine_mean", "cosine_p1", "cosine_below_0_98");
  }

  @Test
  void aReportWithoutTailMetricsNamesThemAsMissing() {
    EvaluationReport old = ReportReader.parse(ReportReaderTest.OLD, "old.json");
    assertThat(old.measurements().metrics()).doesNotContain("cosine_p1");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> Policy.parse("rules:\n  confident_flip_rate: {max: 1%}\n", "p.yaml").judge(old))
        .hasMessageContaining("has no metric 'confident_flip_rate'")
        .hasMessageContaining("accuracy");
  }
}

package io.quantguard.evaluate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.quantguard.report.ClassAverages;
import io.quantguard.report.ClassScores;
import io.quantguard.report.McNemarTest;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The metric formulas against values computed by hand (and by scikit-learn / SciPy conventions).
 */
class MetricMathTest {
  @Test
  void confusionMatrixScoresLikeScikitLearn() {
    // y_true = [0,0,1,1,2,2], y_pred = [0,1,1,1,2,0]
    int[] actual = {0, 0, 1, 1, 2, 2};
    int[] predicted = {0, 1, 1, 1, 2, 0};
    ConfusionMatrix m = new ConfusionMatrix();
    for (int i = 0; i < actual.length; i++) {
      m.add(actual[i], predicted[i]);
    }
    List<ClassScores> pc = m.perClass(Integer::toString);
    assertThat(pc.get(0).precision()).isCloseTo(0.5, within(1e-12));
    assertThat(pc.get(1).precision()).isCloseTo(2.0 / 3, within(1e-12));
    assertThat(pc.get(1).recall()).isCloseTo(1.0, within(1e-12));
    assertThat(pc.get(1).f1()).isCloseTo(0.8, within(1e-12));
    assertThat(pc.get(2).f1()).isCloseTo(2.0 / 3, within(1e-12));
    ClassAverages a = m.averages();
    assertThat(m.accuracy()).isCloseTo(4.0 / 6, within(1e-12));
    assertThat(a.macroF1()).isCloseTo((0.5 + 0.8 + 2.0 / 3) / 3, within(1e-12));
    assertThat(a.macroPrecision()).isCloseTo((0.5 + 2.0 / 3 + 1) / 3, within(1e-12));
    assertThat(a.macroRecall()).isCloseTo((0.5 + 1 + 0.5) / 3, within(1e-12));
    assertThat(a.microF1()).isCloseTo(4.0 / 6, within(1e-12));
    assertThat(a.weightedF1()).isCloseTo((2 * 0.5 + 2 * 0.8 + 2 * 2.0 / 3) / 6, within(1e-12));
    assertThat(
            ConfusionMatrix.macroF1(
                new long[] {1, 2, 1, 0}, new long[] {2, 3, 1, 0}, new long[] {2, 2, 2, 0}))
        .as("classes absent from labels and predictions do not count")
        .isCloseTo(a.macroF1(), within(1e-12));
  }

  @Test
  void confusionMatricesMergeToTheSameCounts() {
    ConfusionMatrix whole = new ConfusionMatrix();
    ConfusionMatrix a = new ConfusionMatrix();
    ConfusionMatrix b = new ConfusionMatrix(2);
    int[][] pairs = {{0, 0}, {3, 1}, {1, 1}, {2, 3}, {4, 4}, {0, 2}};
    for (int i = 0; i < pairs.length; i++) {
      whole.add(pairs[i][0], pairs[i][1]);
      (i < 3 ? a : b).add(pairs[i][0], pairs[i][1]);
    }
    a.merge(b);
    assertThat(a.toArray()).isDeepEqualTo(whole.toArray());
    assertThat(a.classes()).isEqualTo(5);
    assertThat(a.total()).isEqualTo(6);
  }

  @Test
  void mcNemarByHand() {
    // b = 10, c = 2: n = 12, P(X <= 2) = (1 + 12 + 66) / 4096, P(X = 2) = 66 / 4096
    McNemarTest t = McNemar.test(10, 2);
    assertThat(t.exactP()).isCloseTo(2 * 79 / 4096.0, within(1e-12));
    assertThat(t.midP()).isCloseTo((2 * 79 - 66) / 4096.0, within(1e-12));
    assertThat(t.chiSquare()).isCloseTo(49 / 12.0, within(1e-12));
    // chi-square survival at 49/12 with 1 df = erfc(sqrt(49/24))
    assertThat(t.chiSquareP()).isCloseTo(0.043308, within(1e-5));
    assertThat(McNemar.test(2, 10).midP()).isEqualTo(t.midP());
    McNemarTest tie = McNemar.test(5, 5);
    assertThat(tie.exactP()).isEqualTo(1.0);
    assertThat(tie.midP()).isCloseTo(1.0, within(1e-12));
    assertThat(McNemar.test(0, 0).pValue()).isEqualTo(1.0);
  }

  @Test
  void expectedCalibrationErrorByHand() {
    CalibrationError e = new CalibrationError();
    e.add(0.95, true);
    e.add(0.95, false);
    e.add(0.55, true);
    e.add(0.55, true);
    // bins 14 and 8: (|1 − 1.9| + |2 − 1.1|) / 4
    assertThat(e.value()).isCloseTo(0.45, within(1e-12));
    assertThat(e.bins()).hasSize(2);
    assertThat(CalibrationError.bin(1.0)).isEqualTo(14);
    assertThat(CalibrationError.bin(0.0)).isZero();
    assertThat(CalibrationError.bin(1.0 / 15)).isZero();
    CalibrationError other = new CalibrationError();
    other.add(0.95, true);
    e.merge(other);
    assertThat(e.value()).isCloseTo((Math.abs(2 - 2.85) + Math.abs(2 - 1.1)) / 5, within(1e-12));
  }

  @Test
  void tensorAgreementByHand() {
    float[] x = {3, 4};
    float[] y = {3, 3};
    TensorAgreement.Sums s = TensorAgreement.sums(x, y, 0, 2);
    assertThat(s.sqnrDb()).isCloseTo(10 * Math.log10(25), within(1e-9));
    assertThat(s.cosine()).isCloseTo(21 / (5 * Math.sqrt(18)), within(1e-9));
    assertThat(s.maxAbs()).isEqualTo(1.0);
    assertThat(TensorAgreement.cosine(new float[] {1, 0}, new float[] {0, 2})).isZero();
    assertThat(TensorAgreement.sqnrDb(1, 0)).isInfinite();
  }

  @Test
  void rankingMetricsByHand() {
    float[] scores = {0.1f, 0.9f, 0.5f, 0.9f, 0.3f};
    assertThat(RankingMetrics.rank(scores, 1)).isEqualTo(1);
    assertThat(RankingMetrics.rank(scores, 3)).as("ties go to the lower index").isEqualTo(2);
    assertThat(RankingMetrics.rank(scores, 0)).isEqualTo(5);
    assertThat(RankingMetrics.topK(scores, 3)).containsExactly(1, 3, 2);
    assertThat(RankingMetrics.ndcgAtK(1, 10)).isEqualTo(1.0);
    assertThat(RankingMetrics.ndcgAtK(3, 10)).isCloseTo(0.5, within(1e-12));
    assertThat(RankingMetrics.ndcgAtK(11, 10)).isZero();
    assertThat(RankingMetrics.reciprocalRank(4)).isEqualTo(0.25);
    assertThat(RankingMetrics.recallAtK(10, 10)).isEqualTo(1.0);
    assertThat(RankingMetrics.overlap(new int[] {1, 2, 3}, new int[] {3, 4, 1}, 3))
        .isCloseTo(2.0 / 3, within(1e-12));
  }

  @Test
  void squadScoresLikeTheOfficialScript() {
    assertThat(SquadScore.normalize("The  Eiffel Tower!")).isEqualTo("eiffel tower");
    assertThat(SquadScore.exactMatch("The Eiffel Tower!", "eiffel tower")).isEqualTo(1.0);
    // "in park" vs "central park": one common token, P = R = 1/2
    assertThat(SquadScore.f1("in the park", "the central park")).isCloseTo(0.5, within(1e-12));
    assertThat(SquadScore.f1("Paris", "London")).isZero();
    assertThat(SquadScore.f1("Paris", List.of("London", "paris."))).isEqualTo(1.0);
    assertThat(SquadScore.exactMatch("", List.of())).isZero();
    assertThat(SquadScore.f1("a", "the")).as("both normalize to empty").isEqualTo(1.0);
  }
}

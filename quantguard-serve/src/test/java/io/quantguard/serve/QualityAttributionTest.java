package io.quantguard.serve;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Ties reported as ties, and the sentence that tells an input shift from a bad model. */
class QualityAttributionTest {
  private static QualityAttribution.Kind kind(String series) {
    return series.startsWith("overflow:")
        ? QualityAttribution.Kind.TENSOR
        : series.startsWith("ids:")
            ? QualityAttribution.Kind.INPUT
            : QualityAttribution.Kind.OUTPUT;
  }

  private static QualityAttribution of(double[] quality, Map<String, double[]> series) {
    return of(quality, series, Set.of());
  }

  private static QualityAttribution of(
      double[] quality, Map<String, double[]> series, Set<String> driftedLatest) {
    return new QualityAttribution(
        "cosine_p5", quality, series, driftedLatest, QualityAttributionTest::kind);
  }

  @Test
  void seriesThatOrderTheWindowsAlikeShareARankAndTheInputShiftIsNamed() {
    double[] quality = {0.99, 0.991, 0.989, 0.97, 0.968, 0.971};
    Map<String, double[]> series = new LinkedHashMap<>();
    series.put("ids:tokens", new double[] {0.1, 0.0, 0.2, 5, 6, 4.5});
    series.put("ids:unknown", new double[] {0.1, 0.0, 0.2, 5, 6, 4.5});
    series.put("overflow:t", new double[] {1e-4, 0.9e-4, 1.1e-4, 3e-4, 3.5e-4, 2.9e-4});
    series.put("emb:norm", new double[] {3, 1, 2, 3, 1, 2});
    QualityAttribution a = of(quality, series);

    List<Map<String, Object>> ranked = rows(a);
    assertThat(ranked.get(0).get("rank")).isEqualTo(1);
    assertThat(ranked.get(1).get("rank")).isEqualTo(1);
    assertThat(ranked.get(0).get("tied")).isEqualTo(3);
    assertThat(ranked).extracting(r -> r.get("series")).last().isEqualTo("emb:norm");
    assertThat(ranked.get(3).get("rank")).isEqualTo(4);
    assertThat(a.summary())
        .contains("cosine_p5 went from 0.9900 in the oldest window to 0.9710 in the latest")
        .contains("coincides with an input shift")
        .contains("ids:tokens (ρ 1.00, tied with 2 more)")
        .contains("the activations of overflow:t");
  }

  @Test
  void anInputThatSteppedAwayWithTheDropIsAnInputShiftThoughQualityStaysNoisyAfterIt() {
    // MiniLM's live figures, English Europarl then technical English: the token drift is a step,
    // the quality after it noisy, so the rank correlation alone stays below the bar
    double[] quality = {0.9913, 0.9906, 0.9910, 0.9908, 0.9879, 0.9902, 0.9910, 0.9893};
    Map<String, double[]> series = new LinkedHashMap<>();
    series.put("ids:tokens", new double[] {0.305, 0.024, 0.139, 0.101, 8.5, 9.0, 8.1, 8.8});
    series.put("emb:norm", new double[] {1.3, 0.7, 0.9, 1.3, 8.3, 11.3, 11.7, 9.8});
    QualityAttribution a = of(quality, series, Set.of("ids:tokens", "emb:norm"));
    Map<String, Object> tokens =
        rows(a).stream().filter(r -> r.get("series").equals("ids:tokens")).findFirst().get();
    assertThat((double) tokens.get("association")).isLessThan(QualityAttribution.MOVED);
    assertThat(tokens.get("shifted")).isEqualTo(true);
    assertThat(a.summary())
        .contains("coincides with an input shift: ids:tokens (ρ 0.48, a step")
        .doesNotContain("emb:norm"); // an output is not an input shift

    // not flagged by its drift test in the latest window: no step, and nothing else moved
    assertThat(of(quality, series, Set.of()).summary()).doesNotContain("input shift");
    // flagged, but an older window drifted as far: a standing drift, not a step with the drop
    series.put("ids:tokens", new double[] {0.305, 9.5, 0.139, 0.101, 8.5, 9.0, 8.1, 8.8});
    assertThat(of(quality, series, Set.of("ids:tokens")).summary()).doesNotContain("input shift");
  }

  @Test
  void aDropThatNoDriftFollowedPointsAtTheCandidate() {
    double[] quality = {0.99, 0.98, 0.97, 0.96};
    Map<String, double[]> series = new LinkedHashMap<>();
    series.put("ids:tokens", new double[] {1, 0, 0, 1});
    series.put("overflow:t", new double[] {2, 1, 1, 2});
    assertThat(of(quality, series).summary())
        .contains("no input, output or overflow series moved with it")
        .contains("look at the candidate")
        .doesNotContain("input shift");
  }

  @Test
  void qualityThatDidNotFallHasNothingToAttribute() {
    double[] quality = {0.985, 0.989, 0.984, 0.987, 0.992, 0.99};
    Map<String, double[]> series = new LinkedHashMap<>();
    series.put("ids:tokens", new double[] {0, 0, 0, 5, 5, 5});
    series.put("overflow:t", new double[] {3, 1, 4, 2, 0, 0.5});
    assertThat(of(quality, series).summary())
        .startsWith(
            "cosine_p5 did not fall beyond the windows' noise (0.9850 in the oldest window, 0.9900"
                + " in the latest; the older half of the windows spans 0.0050)")
        .doesNotContain("input shift");
    // a fall smaller than the older windows' own spread is noise too
    double[] noisy = {0.9907, 0.9865, 0.9876, 0.9840, 0.9915, 0.9882};
    assertThat(of(noisy, series).summary())
        .startsWith("cosine_p5 did not fall beyond the windows' noise")
        .contains("spans 0.0042");
  }

  @Test
  void fewerThanThreeWindowsAttributeNothing() {
    QualityAttribution a =
        of(
            new double[] {0.99, 0.9},
            Map.of("ids:tokens", new double[] {0, 5}),
            Set.of("ids:tokens"));
    assertThat(a.summary()).startsWith("fewer than three windows");
    assertThat(rows(a)).isEmpty();
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> rows(QualityAttribution a) {
    return (List<Map<String, Object>>) a.report().get("ranked");
  }
}

package io.quantguard.evaluate.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AttributionTest {
  @Test
  void spearmanOfAHandComputedExample() {
    // y = 5, 6, 7, 8, 7 ranks 1, 2, 3.5, 5, 3.5 (ties share their mean rank); x ranks 1 … 5.
    // Deviations −2, −1, 0, 1, 2 and −2, −1, ½, 2, ½: Σdxdy = 8, Σdx² = 10, Σdy² = 9.5, so
    // ρ = 8 / √95.
    List<double[]> pairs =
        List.of(
            new double[] {1, 5},
            new double[] {2, 6},
            new double[] {3, 7},
            new double[] {4, 8},
            new double[] {5, 7});
    assertThat(Attribution.spearman(pairs)).isCloseTo(8 / Math.sqrt(95), within(1e-12));
    assertThat(Attribution.spearman(pairs.subList(0, 2))).isNaN();
  }

  @Test
  void ranksTheSeriesThatRoseAsQualityFellFirst() {
    double[] cosine = {0.995, 0.994, 0.990, 0.985, 0.970, 0.960};
    Map<String, double[]> drift = new LinkedHashMap<>();
    drift.put("noise", new double[] {0.3, 0.1, 0.4, 0.2, 0.35, 0.15});
    drift.put("overflow", new double[] {0.001, 0.002, 0.004, 0.008, 0.02, 0.03});
    drift.put("tokens", new double[] {0.02, 0.05, 0.04, 0.2, 0.5, 0.6});
    drift.put("missing", new double[] {Double.NaN, 1, 2, Double.NaN, Double.NaN, Double.NaN});
    List<Attribution.Ranked> r = Attribution.rank(cosine, true, drift);
    assertThat(r)
        .extracting(Attribution.Ranked::name)
        .containsExactly("overflow", "tokens", "noise", "missing");
    assertThat(r.get(0).association()).isEqualTo(1.0);
    assertThat(r.get(1).association()).isCloseTo(0.942857, within(1e-6));
    assertThat(r.get(3).association()).isNaN();
    assertThat(r.get(3).windows()).isEqualTo(2);
    // A flip rate rises when quality falls: the sign follows the metric's direction.
    double[] flips = {0.01, 0.012, 0.02, 0.03, 0.05, 0.07};
    assertThat(Attribution.rank(flips, false, drift).get(0).name()).isEqualTo("overflow");
  }
}

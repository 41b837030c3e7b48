package io.quantguard.evaluate.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.quantguard.runtime.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.commons.statistics.inference.ChiSquareTest;
import org.apache.commons.statistics.inference.KolmogorovSmirnovTest;
import org.junit.jupiter.api.Test;

/** The drift measures against hand-computed values, and windows against Commons Statistics. */
class DriftStatisticsTest {
  @Test
  void psiOfHandComputedShares() {
    // (0.25 − 0.5)·ln(0.25/0.5) + (0.75 − 0.5)·ln(0.75/0.5) = 0.25·ln 2 + 0.25·ln 1.5
    assertThat(DriftStatistics.psi(new double[] {0.5, 0.5}, new double[] {0.25, 0.75}, 1e-4))
        .isCloseTo(0.25 * Math.log(2) + 0.25 * Math.log(1.5), within(1e-12))
        .isCloseTo(0.274653, within(1e-6));
    // An empty reference bin takes ε = 1e-4: (0.4 − 0.5)·ln 0.8 + (0.1 − 1e-4)·ln(0.1 / 1e-4).
    assertThat(DriftStatistics.psi(new double[] {0.5, 0.5, 0}, new double[] {0.5, 0.4, 0.1}, 1e-4))
        .isCloseTo(0.712399, within(1e-6));
    assertThat(DriftStatistics.psi(new double[] {0.2, 0.8}, new double[] {0.2, 0.8}, 1e-4))
        .isZero();
  }

  @Test
  void jensenShannonDistanceOfHandComputedShares() {
    // Disjoint distributions: the largest distance, √ln 2 with the natural logarithm.
    assertThat(DriftStatistics.jensenShannon(new double[] {1, 0}, new double[] {0, 1}))
        .isCloseTo(Math.sqrt(Math.log(2)), within(1e-12));
    // m = (0.375, 0.625); KL(p‖m) = 0.032269, KL(q‖m) = 0.035375; √(½·0.067644) = 0.183908.
    assertThat(DriftStatistics.jensenShannon(new double[] {0.5, 0.5}, new double[] {0.25, 0.75}))
        .isCloseTo(0.183908, within(1e-6));
  }

  @Test
  void wassersteinIsTheAreaBetweenTheDistributionFunctions() {
    // A shift moves all the mass by 5 (scipy.stats.wasserstein_distance gives 5.0).
    assertThat(DriftStatistics.wasserstein(new double[] {0, 1, 3}, new double[] {5, 6, 8}))
        .isCloseTo(5.0, within(1e-12));
    // F differs by ½ on [1, 3): area 1.
    assertThat(DriftStatistics.wasserstein(new double[] {0, 1}, new double[] {0, 3}))
        .isCloseTo(1.0, within(1e-12));
    // Unequal sizes: a = {0, 2}, b = {1}: |½ − 0| on [0, 1) + |½ − 1| on [1, 2) = 1.
    assertThat(DriftStatistics.wasserstein(new double[] {0, 2}, new double[] {1}))
        .isCloseTo(1.0, within(1e-12));
  }

  @Test
  void ksAndChiSquareOfHandComputedSamples() {
    // Separated samples of 4 and 4: D = 1, exact two-sided p = 2 / C(8, 4) = 2/70.
    DriftStatistics.Test ks =
        DriftStatistics.kolmogorovSmirnov(new double[] {1, 2, 3, 4}, new double[] {5, 6, 7, 8});
    assertThat(ks.statistic()).isEqualTo(1.0);
    assertThat(ks.pValue()).isCloseTo(2.0 / 70, within(1e-12));
    // Expected 25, 12.5, 12.5 against 30, 10, 10: χ² = 1 + 0.5 + 0.5 = 2 with 2 degrees of
    // freedom, p = e^(−χ²/2) = e^(−1).
    DriftStatistics.Test chi =
        DriftStatistics.chiSquare(new double[] {0.5, 0.25, 0.25}, new long[] {30, 10, 10}, 1e-4);
    assertThat(chi.statistic()).isCloseTo(2.0, within(1e-12));
    assertThat(chi.pValue()).isCloseTo(Math.exp(-1), within(1e-12));
    // A category the reference never showed gets ε instead of an infinite statistic.
    assertThat(
            DriftStatistics.chiSquare(new double[] {0.5, 0.5, 0}, new long[] {5, 5, 1}, 1e-4)
                .pValue())
        .isGreaterThan(0)
        .isLessThan(1e-10);
  }

  @Test
  void aMergedWindowMatchesCommonsStatisticsOnTheRawSamples() {
    Random random = new Random(7);
    // Values a float holds exactly, as model outputs are.
    double[] reference = random.doubles(800).map(x -> (float) (x * 2)).toArray();
    double[] window = new double[600];
    for (int i = 0; i < window.length; i++) {
      window[i] = (float) (random.nextDouble() * 2 + 0.15); // shifted a little
    }
    ReferenceProfile profile = scoreProfile(reference, 2048);
    DriftWindow whole = profile.newWindow();
    whole.add(Map.of(), Map.of("y", scores(window, 0, 600)));
    // The same data in three pieces on three "threads", merged.
    DriftWindow a = profile.newWindow();
    DriftWindow b = profile.newWindow();
    DriftWindow c = profile.newWindow();
    a.add(Map.of(), Map.of("y", scores(window, 0, 100)));
    b.add(Map.of(), Map.of("y", scores(window, 100, 450)));
    c.add(Map.of(), Map.of("y", scores(window, 450, 600)));
    c.merge(a);
    c.merge(b);
    DriftResult.FeatureDrift split = c.result().feature("y:value").orElseThrow();
    DriftResult.FeatureDrift one = whole.result().feature("y:value").orElseThrow();
    var expected = KolmogorovSmirnovTest.withDefaults().test(reference, window);
    for (DriftResult.FeatureDrift d : List.of(split, one)) {
      assertThat(d.samples()).isEqualTo(600);
      assertThat(d.method()).isEqualTo(DriftTests.Method.KS);
      assertThat(d.ksStatistic()).isEqualTo(expected.getStatistic());
      assertThat(d.ksPValue()).isCloseTo(expected.getPValue(), within(1e-12));
      assertThat(d.score()).isEqualTo(d.ksPValue());
      assertThat(d.drifted()).isEqualTo(expected.getPValue() < 0.05);
      assertThat(d.windowMean())
          .isCloseTo(Arrays.stream(window).average().orElseThrow(), within(1e-9));
    }
    assertThat(split.psi()).isEqualTo(one.psi());
    assertThat(split.wasserstein()).isEqualTo(one.wasserstein());
    // Normed Wasserstein: W1 of the raw samples over the reference's population std.
    double[] r = reference.clone();
    double[] w = window.clone();
    Arrays.sort(r);
    Arrays.sort(w);
    double mean = Arrays.stream(reference).average().orElseThrow();
    double std =
        Math.sqrt(Arrays.stream(reference).map(x -> (x - mean) * (x - mean)).sum() / r.length);
    assertThat(one.wasserstein()).isCloseTo(DriftStatistics.wasserstein(r, w) / std, within(1e-9));
    // Above 1,000 reference samples the Wasserstein distance decides, as in Evidently.
    DriftResult.FeatureDrift large =
        whole
            .result(new DriftTests(500, 0.05, 0.1, 0.2, 1e-4, null, null))
            .feature("y:value")
            .orElseThrow();
    assertThat(large.method()).isEqualTo(DriftTests.Method.WASSERSTEIN);
    assertThat(large.drifted()).isEqualTo(large.wasserstein() >= 0.1);
  }

  @Test
  void classFrequenciesAreJudgedByChiSquareAsCommonsStatisticsDoes() {
    long[] refCounts = {300, 200, 100};
    long[] winCounts = {40, 50, 30};
    ReferenceProfile profile = classProfile(refCounts);
    DriftWindow w = profile.newWindow();
    w.add(Map.of(), Map.of("logits", logits(winCounts)));
    DriftResult.FeatureDrift d = w.result().feature("logits:class").orElseThrow();
    double[] expected = {60, 40, 20}; // 120 samples at the reference's shares 1/2, 1/3, 1/6
    assertThat(d.method()).isEqualTo(DriftTests.Method.CHI_SQUARE);
    assertThat(d.chiSquarePValue())
        .isCloseTo(
            ChiSquareTest.withDefaults().test(expected, winCounts).getPValue(), within(1e-12));
    assertThat(d.psi())
        .isCloseTo(
            DriftStatistics.psi(
                new double[] {0.5, 1 / 3.0, 1 / 6.0},
                new double[] {40 / 120.0, 50 / 120.0, 30 / 120.0},
                1e-4),
            within(1e-12));
    assertThat(d.drifted()).isTrue();
    // PSI can decide instead, with its own threshold.
    DriftResult.FeatureDrift byPsi =
        w.result(DriftTests.defaults().withMethods(null, DriftTests.Method.PSI))
            .feature("logits:class")
            .orElseThrow();
    assertThat(byPsi.score()).isEqualTo(d.psi());
    assertThat(byPsi.drifted()).isEqualTo(d.psi() >= 0.2);
  }

  /** A profile of one score output whose reference values are {@code values}. */
  static ReferenceProfile scoreProfile(double[] values, int sampleSize) {
    ReferenceProfile.Settings settings =
        new ReferenceProfile.Settings(20, sampleSize, 42, "input_ids", null);
    List<ReferenceProfile.Output> outputs =
        List.of(
            new ReferenceProfile.Output("y", ReferenceProfile.OutputKind.SCORE, 0, new float[0]));
    FeatureExtractor.Spec spec = new FeatureExtractor(List.of(), outputs, settings).specs().get(0);
    FeatureSketch s = new FeatureSketch(spec.kind(), null, 0, sampleSize, 42);
    for (double v : values) {
      s.add(v);
    }
    return new ReferenceProfile(
        ReferenceProfile.SCHEMA,
        "test",
        "test",
        values.length,
        settings,
        List.of(),
        outputs,
        List.of(Profiler.finish(spec, s, 20)));
  }

  private static ReferenceProfile classProfile(long[] counts) {
    ReferenceProfile.Settings settings =
        new ReferenceProfile.Settings(20, 100, 42, "input_ids", null);
    List<ReferenceProfile.Output> outputs =
        List.of(
            new ReferenceProfile.Output(
                "logits", ReferenceProfile.OutputKind.CLASSES, counts.length, new float[0]));
    FeatureExtractor extractor = new FeatureExtractor(List.of(), outputs, settings);
    List<FeatureSketch> sketches =
        extractor.specs().stream()
            .map(sp -> new FeatureSketch(sp.kind(), null, sp.categories(), 100, 42))
            .toList();
    double[][] v = extractor.extract(Map.of(), Map.of("logits", logits(counts)));
    for (int f = 0; f < v.length; f++) {
      for (double x : v[f]) {
        sketches.get(f).add(x);
      }
    }
    long n = Arrays.stream(counts).sum();
    return new ReferenceProfile(
        ReferenceProfile.SCHEMA,
        "test",
        "test",
        n,
        settings,
        List.of(),
        outputs,
        List.of(
            Profiler.finish(extractor.specs().get(0), sketches.get(0), 20),
            Profiler.finish(extractor.specs().get(1), sketches.get(1), 20),
            Profiler.finish(extractor.specs().get(2), sketches.get(2), 20)));
  }

  /** Logits whose arg-max is class c for counts[c] rows, with varying confidence. */
  private static Tensor logits(long[] counts) {
    int n = (int) Arrays.stream(counts).sum();
    int k = counts.length;
    float[] z = new float[n * k];
    int row = 0;
    for (int c = 0; c < k; c++) {
      for (long i = 0; i < counts[c]; i++, row++) {
        z[row * k + c] = 1 + (row % 7) * 0.5f;
      }
    }
    return Tensor.ofFloats(z, n, k);
  }

  private static Tensor scores(double[] values, int from, int to) {
    float[] f = new float[to - from];
    for (int i = from; i < to; i++) {
      f[i - from] = (float) values[i];
    }
    return Tensor.ofFloats(f, f.length);
  }
}

package io.quantguard.evaluate.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.quantguard.evaluate.Tasks;
import io.quantguard.report.MetricEstimate;
import io.quantguard.report.TaskResult;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import java.io.ByteArrayOutputStream;
import java.io.ObjectOutputStream;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The embedding task's counts: the cosine's low tail on vectors whose cosines are known, its
 * percentiles on weighted rows within the histogram's stated precision, exact sums, and the same
 * bits from any split of the rows.
 */
class AgreementCountsTest {
  /** 1,000 samples: 970 identical to the baseline, 20 at cosine 0.985, 10 at cosine 0.9. */
  private static TaskResult knownTail() {
    int n = 1000;
    float[] base = new float[n * 2];
    float[] cand = new float[n * 2];
    for (int i = 0; i < n; i++) {
      double cos = i < 10 ? 0.9 : i < 30 ? 0.985 : 1.0;
      base[2 * i] = 1;
      cand[2 * i] = (float) cos;
      cand[2 * i + 1] = (float) Math.sqrt(1 - cos * cos);
    }
    long[] mask = new long[n];
    Arrays.fill(mask, 1);
    Batch b =
        new Batch(
            Map.of(
                "x", Tensor.ofFloats(new float[n], n, 1),
                "attention_mask", Tensor.ofLongs(mask, n, 1)),
            null,
            List.of(),
            0);
    return TaskScoring.score(
        Tasks.parse("embedding"),
        List.of(b),
        List.of(Map.of("last_hidden_state", Tensor.ofFloats(base, n, 1, 2))),
        List.of(Map.of("last_hidden_state", Tensor.ofFloats(cand, n, 1, 2))));
  }

  @Test
  void percentilesAndSharesBelowThresholdsOfKnownCosines() {
    TaskResult r = knownTail();
    assertThat(r.metric("cosine_mean").orElseThrow().value())
        .isCloseTo((970 + 20 * 0.985 + 10 * 0.9) / 1000, within(1e-6));
    // Half a bin: (1 − cos)/128 at the lower of the two order statistics a percentile reads.
    double bin = 0.1 / 128;
    // type 7: h = 999 p; p1 interpolates between the 10th and 11th lowest (0.9 and 0.985)
    assertThat(value(r, "cosine_p0_1")).isCloseTo(0.9, within(bin));
    assertThat(value(r, "cosine_p1")).isCloseTo(0.9 + 0.99 * 0.085, within(bin));
    assertThat(value(r, "cosine_p5")).isEqualTo(1.0);
    assertThat(value(r, "cosine_below_0_99")).isCloseTo(0.03, within(1e-12));
    assertThat(value(r, "cosine_below_0_98")).isCloseTo(0.01, within(1e-12));
    assertThat(value(r, "cosine_below_0_95")).isCloseTo(0.01, within(1e-12));
    MetricEstimate below = r.metric("cosine_below_0_99").orElseThrow();
    assertThat(below.higherIsBetter()).isFalse();
    assertThat(below.low()).isLessThan(0.03);
    assertThat(below.high()).isGreaterThan(0.03).isLessThan(0.06);
    assertThat(r.metric("cosine_p1").orElseThrow().low()).isCloseTo(0.9, within(bin));
    assertThat(r.figures().get("cosine_p01")).isEqualTo(value(r, "cosine_p1"));
    assertThat(r.figures().get("cosine_min")).isEqualTo((double) (float) 0.9);
  }

  @Test
  void percentilesOfWeightedRowsAreWithinHalfABinOfTheExactOnes() {
    Random random = new Random(3);
    int n = 700;
    float[] cos = new float[n];
    for (int i = 0; i < n; i++) {
      // Distances from agreement over four decades, and a few exact agreements.
      cos[i] = i % 50 == 0 ? 1 : (float) (1 - Math.pow(10, -1 - 4 * random.nextDouble()));
    }
    for (int trial = 0; trial < 20; trial++) {
      int[] w = new int[n];
      List<Float> expanded = new ArrayList<>();
      AgreementCounts counts = new AgreementCounts();
      for (int k = 0; k < n; k++) {
        int row = random.nextInt(n);
        w[row]++;
        expanded.add(cos[row]);
      }
      for (int i = 0; i < n; i++) {
        counts.add(cos[i], 1, 0, w[i]);
      }
      Collections.sort(expanded);
      double[] out = new double[AgreementCounts.metrics().size()];
      counts.values(out);
      for (int j = 0; j < AgreementCounts.PERCENTILES.length; j++) {
        double h = (n - 1) * AgreementCounts.PERCENTILES[j];
        int lo = (int) Math.floor(h);
        double a = expanded.get(lo);
        double exact = a + (h - lo) * (expanded.get(Math.min(n - 1, lo + 1)) - a);
        assertThat(out[2 + j]).isCloseTo(exact, within((1 - a) / 128 + 1e-12));
      }
      for (int t = 0; t < AgreementCounts.THRESHOLDS.length; t++) {
        double threshold = AgreementCounts.THRESHOLDS[t];
        long below = expanded.stream().filter(c -> c < threshold).count();
        assertThat(out[2 + AgreementCounts.PERCENTILES.length + t]).isEqualTo((double) below / n);
      }
      assertThat(counts.lowest()).isEqualTo((double) expanded.get(0));
      assertThat(counts.percentile(0)).isEqualTo((double) expanded.get(0));
      assertThat(counts.percentile(1)).isEqualTo((double) expanded.get(n - 1));
    }
  }

  @Test
  void anySplitOfTheRowsMergedInAnyOrderGivesTheSameBits() throws Exception {
    Random random = new Random(11);
    int n = 5000;
    float[] cos = new float[n];
    float[] sig = new float[n];
    float[] noi = new float[n];
    for (int i = 0; i < n; i++) {
      cos[i] = (float) (1 - Math.pow(10, -6 * random.nextDouble()));
      sig[i] = (float) (random.nextDouble() * 100);
      noi[i] = (float) (sig[i] * Math.pow(10, -2 - 4 * random.nextDouble()));
    }
    AgreementCounts whole = new AgreementCounts();
    for (int i = 0; i < n; i++) {
      whole.add(cos[i], sig[i], noi[i], 1 + i % 3);
    }
    // Three uneven interleaved parts, each filled in reverse, merged last part first.
    AgreementCounts[] parts = {new AgreementCounts(), new AgreementCounts(), new AgreementCounts()};
    for (int i = n - 1; i >= 0; i--) {
      parts[i % 7 == 0 ? 0 : i % 2 == 0 ? 1 : 2].add(cos[i], sig[i], noi[i], 1 + i % 3);
    }
    parts[2].merge(parts[0]);
    parts[2].merge(parts[1]);
    assertThat(bytes(parts[2])).isEqualTo(bytes(whole));
    double[] v = new double[AgreementCounts.metrics().size()];
    whole.values(v);
    BigDecimal cosSum = BigDecimal.ZERO;
    long rows = 0;
    for (int i = 0; i < n; i++) {
      cosSum = cosSum.add(new BigDecimal(cos[i]).multiply(BigDecimal.valueOf(1 + i % 3)));
      rows += 1 + i % 3;
    }
    assertThat(v[0]).isCloseTo(cosSum.doubleValue() / rows, within(1e-15));
  }

  @Test
  void fixedSumsAreExactToTwoToTheMinus64AndRefuseOverflow() {
    FixedSum s = new FixedSum();
    s.add(0.1f, 3);
    s.add(-0.1f, 3);
    s.add(1e-30f, 1_000_000);
    assertThat(s.value()).isZero();
    s.add(1e6f, 7);
    s.add(-2.5f, 2);
    s.add(0x1p-60f, 5);
    assertThat(s.value()).isEqualTo(7e6 - 5 + 5 * 0x1p-60);
    FixedSum nan = new FixedSum();
    nan.add(Float.NaN, 1);
    s.merge(nan);
    assertThat(s.value()).isNaN();
    FixedSum big = new FixedSum();
    assertThatThrownBy(() -> big.add(0x1p63f, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("2^63");
  }

  @Test
  void theTailOfPlainCosinesIsTheTaskTailOfTheSameRows() {
    TaskResult task = knownTail();
    float[] cosines = new float[1000];
    for (int i = 0; i < cosines.length; i++) {
      cosines[i] = i < 10 ? 0.9f : i < 30 ? 0.985f : 1f;
    }
    // only the first n count: the rest of the array is a buffer's unused room
    float[] buffer = Arrays.copyOf(cosines, 1500);
    Map<String, Double> tail = CosineTail.of(buffer, 1000);
    assertThat(tail.keySet())
        .containsExactlyElementsOf(CosineTail.metrics().stream().map(m -> m.name()).toList());
    tail.forEach((k, v) -> assertThat(v).as(k).isCloseTo(value(task, k), within(1e-6)));
    assertThat(CosineTail.of(new float[0], 0).values()).allMatch(v -> v.isNaN());
  }

  @Test
  void namesSpellTheDecimalPointAsUnderscore() {
    assertThat(AgreementCounts.metrics())
        .extracting(m -> m.name())
        .containsExactly(
            "cosine_mean",
            "sqnr_db",
            "cosine_p0_1",
            "cosine_p1",
            "cosine_p5",
            "cosine_below_0_99",
            "cosine_below_0_98",
            "cosine_below_0_95");
  }

  private static byte[] bytes(Object o) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ObjectOutputStream s = new ObjectOutputStream(out)) {
      s.writeObject(o);
    }
    return out.toByteArray();
  }

  private static double value(TaskResult r, String metric) {
    return r.metric(metric).orElseThrow().value();
  }
}

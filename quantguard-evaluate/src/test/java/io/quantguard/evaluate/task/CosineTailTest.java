package io.quantguard.evaluate.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.quantguard.evaluate.Tasks;
import io.quantguard.report.MetricEstimate;
import io.quantguard.report.TaskResult;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The cosine's low tail on vectors whose cosines are known, and on resampled multisets. */
class CosineTailTest {
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
    // type 7: h = 999 p; p1 interpolates between the 10th and 11th lowest (0.9 and 0.985)
    assertThat(value(r, "cosine_p0_1")).isCloseTo(0.9, within(1e-6));
    assertThat(value(r, "cosine_p1")).isCloseTo(0.9 + 0.99 * 0.085, within(1e-6));
    assertThat(value(r, "cosine_p5")).isCloseTo(1.0, within(1e-6));
    assertThat(value(r, "cosine_below_0_99")).isCloseTo(0.03, within(1e-12));
    assertThat(value(r, "cosine_below_0_98")).isCloseTo(0.01, within(1e-12));
    assertThat(value(r, "cosine_below_0_95")).isCloseTo(0.01, within(1e-12));
    MetricEstimate below = r.metric("cosine_below_0_99").orElseThrow();
    assertThat(below.higherIsBetter()).isFalse();
    assertThat(below.low()).isLessThan(0.03);
    assertThat(below.high()).isGreaterThan(0.03).isLessThan(0.06);
    assertThat(r.metric("cosine_p1").orElseThrow().low()).isCloseTo(0.9, within(1e-6));
    assertThat(r.figures().get("cosine_p01")).isCloseTo(value(r, "cosine_p1"), within(1e-6));
  }

  @Test
  void aResampleIsTheMultisetOfItsRowsRepeatedByTheirWeights() {
    Random random = new Random(3);
    FloatColumn cosine = new FloatColumn();
    for (int i = 0; i < 700; i++) {
      cosine.add(1 - Math.abs(random.nextGaussian()) * 0.01);
    }
    CosineTail tail = new CosineTail(cosine);
    for (int trial = 0; trial < 20; trial++) {
      int[] w = new int[cosine.size()];
      FloatColumn expanded = new FloatColumn();
      for (int k = 0; k < cosine.size(); k++) {
        int row = random.nextInt(cosine.size());
        w[row]++;
        expanded.add(cosine.get(row));
      }
      double[] out = new double[6];
      tail.evaluate(w, out, 0);
      for (int j = 0; j < CosineTail.PERCENTILES.length; j++) {
        assertThat(out[j]).isCloseTo(expanded.percentile(CosineTail.PERCENTILES[j]), within(1e-7));
      }
      for (int t = 0; t < CosineTail.THRESHOLDS.length; t++) {
        int below = 0;
        for (int k = 0; k < expanded.size(); k++) {
          below += expanded.get(k) < CosineTail.THRESHOLDS[t] ? 1 : 0;
        }
        assertThat(out[3 + t]).isEqualTo((double) below / expanded.size());
      }
    }
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
    assertThat(CosineTail.metrics())
        .extracting(m -> m.name())
        .containsExactly(
            "cosine_p0_1",
            "cosine_p1",
            "cosine_p5",
            "cosine_below_0_99",
            "cosine_below_0_98",
            "cosine_below_0_95");
  }

  private static double value(TaskResult r, String metric) {
    return r.metric(metric).orElseThrow().value();
  }
}

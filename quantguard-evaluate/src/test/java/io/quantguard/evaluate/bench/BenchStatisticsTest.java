package io.quantguard.evaluate.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.quantguard.onnx.CpuFeatures;
import io.quantguard.onnx.InvalidInputException;
import java.util.List;
import java.util.Random;
import org.assertj.core.data.Percentage;
import org.junit.jupiter.api.Test;

/** The benchmark's statistics on synthetic timings whose answers are known by hand. */
class BenchStatisticsTest {

  @Test
  void percentilesOfOneToThousandMicrosecondsAreWithinHdrPrecision() {
    LatencyHistogram h = new LatencyHistogram();
    for (int us = 1000; us >= 1; us--) {
      h.add(us * 1000L);
    }
    // The p-th percentile of 1..1000 is the ceil(10 p)-th value.
    assertThat(h.percentileNanos(50)).isCloseTo(500_000L, Percentage.withPercentage(0.1));
    assertThat(h.percentileNanos(95)).isCloseTo(950_000L, Percentage.withPercentage(0.1));
    assertThat(h.percentileNanos(99)).isCloseTo(990_000L, Percentage.withPercentage(0.1));
    LatencyStats s = h.stats();
    assertThat(s.count()).isEqualTo(1000);
    assertThat(s.meanMs()).isEqualTo(0.5005); // exact: (1 + 1000) / 2 µs
    assertThat(s.minMs()).isEqualTo(0.001);
    assertThat(s.maxMs()).isEqualTo(1.0);
    assertThat(s.p50Ms()).isLessThanOrEqualTo(s.p95Ms()).isLessThanOrEqualTo(s.p99Ms());
  }

  @Test
  void mergingTwoHalvesGivesTheWhole() {
    LatencyHistogram whole = new LatencyHistogram();
    LatencyHistogram odd = new LatencyHistogram();
    LatencyHistogram even = new LatencyHistogram();
    Random rnd = new Random(42);
    for (int i = 0; i < 10_000; i++) {
      long v = 50_000 + (long) (rnd.nextGaussian() * 5_000 + 5_000 * rnd.nextDouble());
      whole.add(v);
      (i % 2 == 0 ? even : odd).add(v);
    }
    odd.merge(even);
    assertThat(odd.stats()).isEqualTo(whole.stats());
  }

  @Test
  void aSkewedTailShowsInP99NotP50() {
    LatencyHistogram h = new LatencyHistogram();
    for (int i = 0; i < 980; i++) {
      h.add(1_000_000); // 1 ms
    }
    for (int i = 0; i < 20; i++) {
      h.add(30_000_000); // 30 ms stalls, 2 %
    }
    LatencyStats s = h.stats();
    assertThat(s.p50Ms()).isCloseTo(1.0, within(0.001));
    assertThat(s.p95Ms()).isCloseTo(1.0, within(0.001));
    assertThat(s.p99Ms()).isCloseTo(30.0, within(0.03));
    assertThat(s.meanMs()).isCloseTo(0.98 + 0.6, within(1e-9));
  }

  @Test
  void medianIntervalOfTenRoundsUsesTheSecondAndNinthOrderStatistics() {
    // n = 10: P(B <= 1) = 11/1024, so [x(2), x(9)] covers 1 - 22/1024 = 0.978515625 >= 0.95,
    // while [x(3), x(8)] would cover only 1 - 112/1024 = 0.890625.
    double[] ratios = {0.36, 0.31, 0.34, 0.30, 0.33, 0.35, 0.32, 0.39, 0.37, 0.38};
    RatioInterval r = RatioInterval.ofMedian(ratios, 0.95);
    assertThat(r.median()).isCloseTo(0.345, within(1e-12));
    assertThat(r.low()).isEqualTo(0.31);
    assertThat(r.high()).isEqualTo(0.38);
    assertThat(r.confidence()).isCloseTo(1 - 22.0 / 1024, within(1e-12));
    assertThat(r.rounds()).isEqualTo(10);
    assertThat(r.contains(0.345)).isTrue();
    assertThat(r.contains(1.0)).isFalse();
  }

  @Test
  void fewRoundsFallBackToMinMaxAndSayTheirRealCoverage() {
    RatioInterval five = RatioInterval.ofMedian(new double[] {1.02, 0.97, 1.00, 0.99, 1.05}, 0.95);
    assertThat(five.median()).isEqualTo(1.00);
    assertThat(five.low()).isEqualTo(0.97);
    assertThat(five.high()).isEqualTo(1.05);
    assertThat(five.confidence()).isCloseTo(1 - 2.0 / 32, within(1e-12)); // 0.9375
    RatioInterval six = RatioInterval.ofMedian(new double[] {6, 1, 5, 2, 4, 3}, 0.95);
    assertThat(six.confidence()).isCloseTo(1 - 2.0 / 64, within(1e-12)); // 0.96875
    assertThat(six.low()).isEqualTo(1);
    assertThat(six.high()).isEqualTo(6);
    RatioInterval one = RatioInterval.ofMedian(new double[] {2.5}, 0.95);
    assertThat(one.low()).isEqualTo(2.5);
    assertThat(one.high()).isEqualTo(2.5);
    assertThat(one.confidence()).isZero();
  }

  @Test
  void manyRoundsNarrowTheIntervalAroundTheTrueRatio() {
    // 101 rounds of a true 1/3 time ratio with ±5 % multiplicative noise: the order-statistic
    // interval holds 1/3 and is far narrower than the noise.
    Random rnd = new Random(7);
    double[] x = new double[101];
    for (int i = 0; i < x.length; i++) {
      x[i] = (1.0 / 3) * (1 + 0.05 * (2 * rnd.nextDouble() - 1));
    }
    RatioInterval r = RatioInterval.ofMedian(x, 0.95);
    assertThat(r.contains(1.0 / 3)).isTrue();
    assertThat(r.high() - r.low()).isLessThan(0.02);
    assertThat(r.confidence()).isBetween(0.95, 0.97);
  }

  @Test
  void readsInstructionSetsFromCpuinfo() {
    String vnni =
        """
        processor\t: 0
        model name\t: AMD EPYC 9R14
        flags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512bw avx512vl avx512_vnni avx_vnni
        processor\t: 1
        model name\t: AMD EPYC 9R14
        flags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512bw avx512vl avx512_vnni avx_vnni
        """;
    CpuFeatures c = CpuFeatures.parse(vnni, 2);
    assertThat(c.model()).isEqualTo("AMD EPYC 9R14");
    assertThat(c.flags())
        .containsExactly(
            "sse4_2",
            "avx",
            "avx2",
            "fma",
            "avx512f",
            "avx512bw",
            "avx512vl",
            "avx512_vnni",
            "avx_vnni");
    assertThat(c.int8DotProduct()).isEqualTo("AVX-512 VNNI");
    assertThat(
            CpuFeatures.parse("flags : avx2 amx_tile amx_int8 avx512_vnni\n", 8).int8DotProduct())
        .isEqualTo("AMX-INT8");
    CpuFeatures old = CpuFeatures.parse("model name : Old\nflags : sse4_2 avx avx2 fma\n", 4);
    assertThat(old.int8DotProduct()).isEqualTo("none");
    assertThat(old.int8Note()).contains("gain little");
    assertThat(CpuFeatures.parse("Features : fp asimd asimddp i8mm\n", 4).int8DotProduct())
        .isEqualTo("Arm I8MM");
  }

  @Test
  void readsRssFieldsInBytes() {
    String status = "Name:\tjava\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n";
    assertThat(ResidentMemory.parse(status, "VmRSS")).hasValue(100L << 20);
    assertThat(ResidentMemory.parse(status, "VmHWM")).hasValue(200L << 20);
    assertThat(ResidentMemory.parse(status, "VmSwap")).isEmpty();
    MemoryUse m = MemoryUse.of("test", 100, 150, 130, 180);
    assertThat(m.peakGrowth()).isEqualTo(80);
    assertThat(m.steadyGrowth()).isEqualTo(30);
    assertThat(MemoryUse.of("none", -1, -1, -1, -1).peakGrowth()).isNull();
  }

  @Test
  void batchListsAreCheckedWithAMessageThatSaysWhatToDo() {
    assertThat(BenchPlan.parseBatchSizes("1,8, 32")).containsExactly(1, 8, 32);
    assertThatThrownBy(() -> BenchPlan.parseBatchSizes("1,x"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("'x' is not a whole number");
    assertThatThrownBy(() -> BenchPlan.parseBatchSizes("0"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("not positive");
    assertThatThrownBy(() -> BenchPlan.parseBatchSizes("8,8"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("twice");
    assertThatThrownBy(() -> BenchPlan.parseBatchSizes(" , "))
        .isInstanceOf(InvalidInputException.class);
    assertThatThrownBy(() -> BenchPlan.defaults(List.of(), "idx:x"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("no model");
  }
}

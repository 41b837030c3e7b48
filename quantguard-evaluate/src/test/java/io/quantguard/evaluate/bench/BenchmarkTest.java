package io.quantguard.evaluate.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.TestModels;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.SessionConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The benchmark end to end on the real Fashion-MNIST CNN and the real ONNX Runtime. */
class BenchmarkTest {
  private static final int ROUNDS = 9;

  private static String images(int limit) {
    return "idx:"
        + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz")
        + "?input=image&limit="
        + limit;
  }

  @Test
  void theCnnAgainstItselfComesOutEvenWithSaneFigures() throws Exception {
    Path cnn = TestModels.fashionCnn();
    BenchPlan plan =
        BenchPlan.defaults(List.of(BenchModel.of(cnn), BenchModel.of(cnn)), images(128))
            .withBatchSizes(List.of(1, 64))
            // One thread per session: a shared, loaded machine then slows a call down, but never
            // leaves it waiting on a descheduled worker thread (the worst of the noise).
            .withSession(SessionConfig.defaults().withThreads(1))
            .withWarmup(1)
            .withTrials(ROUNDS)
            .withMinTrialMillis(100)
            // 99 %: two batch sizes, each interval must hold 1.0 for the test to pass.
            .withConfidence(0.99);
    List<String> progress = new ArrayList<>();
    BenchResult r =
        new Benchmark(plan, (stage, done, total) -> progress.add(stage + " " + done + "/" + total))
            .run();

    assertThat(progress).contains("warm-up 2/2", "batch 1 9/9", "batch 64 9/9", "sessions 6/6");
    assertThat(r.environment().run().onnxRuntime()).startsWith("1.");
    assertThat(r.environment().cpu().logicalCores()).isPositive();
    assertThat(r.models())
        .extracting(BenchResult.ModelResult::label)
        .containsExactly(cnn.toString(), cnn + " #2");

    for (BenchResult.ModelResult m : r.models()) {
      assertThat(m.sizeOnDisk()).isEqualTo(Files.size(cnn));
      assertThat(m.quantization()).isEqualTo("no");
      assertThat(m.sessionCreationMs()).isPositive();
      if (m.memory().rssBefore() != null) {
        assertThat(m.memory().peakRss()).isGreaterThanOrEqualTo(m.memory().rssAfterWarmup());
        assertThat(m.memory().peakGrowth()).isGreaterThanOrEqualTo(m.memory().steadyGrowth());
        assertThat(m.memory().method()).startsWith("in-process");
      }
      assertThat(m.batches()).extracting(BenchResult.BatchResult::batchSize).containsExactly(1, 64);
      for (BenchResult.BatchResult b : m.batches()) {
        LatencyStats l = b.latency();
        assertThat(b.trials()).isEqualTo(ROUNDS);
        assertThat(b.batchesPerPass()).isEqualTo(128 / b.batchSize());
        assertThat(l.count()).isEqualTo((long) ROUNDS * b.passesPerTrial() * b.batchesPerPass());
        assertThat(l.minMs()).isPositive();
        assertThat(l.minMs()).isLessThanOrEqualTo(l.p50Ms() * 1.001);
        assertThat(l.p50Ms()).isLessThanOrEqualTo(l.p95Ms());
        assertThat(l.p95Ms()).isLessThanOrEqualTo(l.p99Ms());
        assertThat(l.p99Ms()).isLessThanOrEqualTo(l.maxMs() * 1.001);
        // Throughput is samples over inference time: batch / mean latency, exactly.
        assertThat(b.throughput()).isCloseTo(b.batchSize() * 1000 / l.meanMs(), within(1e-6));
        assertThat(b.perSampleMs() * b.throughput()).isCloseTo(1000, within(1e-6));
      }
      // A batch of 64 costs more per call and less per sample than a batch of 1.
      assertThat(m.batches().get(1).latency().p50Ms())
          .isGreaterThan(m.batches().get(0).latency().p50Ms());
    }

    assertThat(r.comparisons()).hasSize(1);
    BenchResult.Comparison c = r.comparisons().get(0);
    assertThat(c.sizeRatio()).isEqualTo(1.0);
    for (BenchResult.BatchComparison b : c.batches()) {
      assertThat(b.roundRatios()).hasSize(ROUNDS);
      RatioInterval t = b.timeRatio();
      assertThat(t.rounds()).isEqualTo(ROUNDS);
      // n = 9 at 99 %: [x(1), x(9)], which covers 1 - 2 / 512 ([x(2), x(8)] only 0.961).
      assertThat(t.confidence()).isCloseTo(1 - 2.0 / 512, within(1e-12));
      assertThat(t.low())
          .isEqualTo(b.roundRatios().stream().mapToDouble(d -> d).min().orElseThrow());
      assertThat(t.low()).isLessThanOrEqualTo(t.median()).isLessThanOrEqualTo(t.high());
      // Two sessions of one model are not physically identical (where their weights and arenas
      // land in memory): in about a quarter of full test runs on the shared 2-core machine the
      // first session was slower in all nine rounds (ratios 0.82-0.99), although the order
      // rotates. The interval must come within 10 % of even, not necessarily hold 1.
      assertThat(t.low()).as("identical models: %s", b.roundRatios()).isLessThanOrEqualTo(1.10);
      assertThat(t.high()).as("identical models: %s", b.roundRatios()).isGreaterThanOrEqualTo(0.90);
      assertThat(t.median()).isBetween(0.7, 1.4);
      assertThat(b.speedup().low()).isCloseTo(1 / t.high(), within(1e-12));
      assertThat(b.speedup().high()).isCloseTo(1 / t.low(), within(1e-12));
      assertThat(b.throughputRatio()).isBetween(0.6, 1.6);
    }

    String table = BenchTable.render(r);
    assertThat(table)
        .contains("ONNX Runtime " + r.environment().run().onnxRuntime())
        .contains("batch 1 ")
        .contains("batch 64 ")
        .contains("speed-up")
        .contains("1 (baseline)");
    JsonNode json = new ObjectMapper().readTree(new ObjectMapper().writeValueAsString(r));
    assertThat(json.at("/comparisons/0/batches/1/timeRatio/median").asDouble())
        .isEqualTo(c.batches().get(1).timeRatio().median());
    assertThat(json.at("/environment/cpu/flags").isArray()).isTrue();
    assertThat(json.at("/models/0/batches/0/latency/p99Ms").isNumber()).isTrue();
  }

  @Test
  void isolatedMemoryIsTakenInAChildJvm() {
    Path cnn = TestModels.fashionCnn();
    BenchPlan plan =
        BenchPlan.defaults(List.of(BenchModel.of(cnn)), images(8))
            .withBatchSizes(List.of(8))
            .withWarmup(1)
            .withTrials(2)
            .withMinTrialMillis(0)
            .withIsolate(true);
    BenchResult r = new Benchmark(plan, Progress.NONE).run();
    MemoryUse m = r.models().get(0).memory();
    assertThat(m.method()).startsWith("isolated child JVM");
    if (m.rssBefore() != null) {
      assertThat(m.peakGrowth()).isPositive();
      assertThat(m.peakRss()).isGreaterThan(m.rssBefore());
    }
    assertThat(r.comparisons()).isEmpty();
  }

  @Test
  void tooLittleDataForABatchIsBadInputThatSaysWhatToDo() {
    Path cnn = TestModels.fashionCnn();
    BenchPlan plan =
        BenchPlan.defaults(List.of(BenchModel.of(cnn)), images(10)).withBatchSizes(List.of(32));
    assertThatThrownBy(() -> new Benchmark(plan, Progress.NONE).run())
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("has 10 samples, not enough for one batch of 32")
        .hasMessageContaining("use batch sizes of at most 10");
  }
}

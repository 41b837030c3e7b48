package io.quantguard.evaluate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.TestModels;
import io.quantguard.report.ClassScores;
import io.quantguard.report.ClassificationDetail;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.MetricEstimate;
import io.quantguard.report.ReportWriter;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The Fashion-MNIST CNN on its 10,000 test images: the FP32 baseline against itself and against a
 * copy with noisy fully connected weights, sliced by label, with the first 1,000 training images as
 * calibration data for the hygiene check. Every headline figure is cross-checked against a plain
 * loop over the same sessions.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CnnEvaluationTest {
  static final String CLASSES =
      "T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot";

  private Path cnn;
  private Path noisy;
  private String testSpec;
  private EvaluationReport report;
  private final Path out = Path.of("target", "evaluate-cnn");

  @BeforeAll
  void evaluate() throws Exception {
    cnn = TestModels.fashionCnn();
    Path images = TestModels.fashionMnist("t10k-images-idx3-ubyte.gz");
    Path train = TestModels.fashionMnistSample("train-images-idx3-ubyte.gz");
    Files.createDirectories(out);
    noisy = CnnVariants.noisy(cnn, out.resolve("cnn-noisy.onnx"), 0.5, 7);
    testSpec = "idx:" + images + "?input=image";
    report =
        Evaluation.builder()
            .baseline("fp32", cnn)
            .candidate("fp32-again", cnn)
            .candidate("noisy-fc", noisy)
            .task(Tasks.parse("classification?classes=" + CLASSES), "classification")
            .data("fashion-test", DataSpec.parse(testSpec))
            .calibration(DataSpec.parse("idx:" + train + "?input=image&limit=1000"))
            .sliceBy(Slicer.parse("label"))
            .build()
            .run();
    ReportWriter.write(report, out);
  }

  @Test
  void baselineMatchesTheFixtureReferenceAccuracy() {
    MetricEstimate acc = report.baseline().all().metric("accuracy").orElseThrow();
    // ../shared/fixtures/README.md: FP32 top-1 accuracy 0.9254 with ONNX Runtime 1.23 on CPU.
    assertThat(acc.value()).isCloseTo(0.9254, within(0.0015));
    assertThat(acc.low()).isLessThan(acc.value());
    assertThat(acc.high()).isGreaterThan(acc.value());
    assertThat(acc.high() - acc.low()).as("95 %% CI width for n = 10,000").isBetween(0.005, 0.02);
    assertThat(report.baseline().all().samples()).isEqualTo(10_000);
  }

  @Test
  void theBaselineAgainstItselfChangesNothing() {
    EvaluationReport.SliceResult same = report.model("fp32-again").orElseThrow().all();
    assertThat(same.metric("flip_rate").orElseThrow().value()).isZero();
    MetricEstimate acc = same.metric("accuracy").orElseThrow();
    assertThat(acc.delta()).isZero();
    assertThat(acc.deltaLow()).isZero();
    assertThat(acc.deltaHigh()).isZero();
    assertThat(same.classification().mcnemar().midP()).isEqualTo(1.0);
    assertThat(same.classification().flips()).isEmpty();
    assertThat(report.model("fp32-again").orElseThrow().verdict().outcome())
        .isEqualTo("no_significant_difference");
  }

  @Test
  void headlineFiguresAgreeWithAPlainLoopOverTheSameSessions() {
    long n = 0;
    long baseRight = 0;
    long noisyRight = 0;
    long flips = 0;
    long b = 0;
    long c = 0;
    try (InferenceSession base = InferenceSession.open(cnn, SessionConfig.defaults());
        InferenceSession cand = InferenceSession.open(noisy, SessionConfig.defaults());
        BatchStream s = DataSpec.parse(testSpec).open(500)) {
      while (s.hasNext()) {
        Batch batch = s.next();
        float[] x = base.run(batch.inputs()).get("logits").floats();
        float[] y = cand.run(batch.inputs()).get("logits").floats();
        for (int r = 0; r < batch.size(); r++) {
          int pb = argmax(x, r * 10);
          int pc = argmax(y, r * 10);
          long label = batch.labels()[r];
          n++;
          baseRight += pb == label ? 1 : 0;
          noisyRight += pc == label ? 1 : 0;
          flips += pb != pc ? 1 : 0;
          b += pb == label && pc != label ? 1 : 0;
          c += pb != label && pc == label ? 1 : 0;
        }
      }
    }
    EvaluationReport.SliceResult r = report.model("noisy-fc").orElseThrow().all();
    MetricEstimate acc = r.metric("accuracy").orElseThrow();
    assertThat(acc.baseline()).isCloseTo((double) baseRight / n, within(1e-12));
    assertThat(acc.value()).isCloseTo((double) noisyRight / n, within(1e-12));
    assertThat(acc.delta()).isCloseTo((double) (noisyRight - baseRight) / n, within(1e-12));
    assertThat(r.metric("flip_rate").orElseThrow().value())
        .isCloseTo((double) flips / n, within(1e-12));
    assertThat(r.classification().flipped()).isEqualTo(flips);
    assertThat(r.classification().mcnemar().baselineOnlyCorrect()).isEqualTo(b);
    assertThat(r.classification().mcnemar().modelOnlyCorrect()).isEqualTo(c);
    assertThat(flips).as("the perturbation must flip some predictions").isPositive();
    assertThat(r.classification().flips().stream().mapToLong(f -> f.count()).sum())
        .isEqualTo(flips);
  }

  @Test
  void perClassScoresSlicesAndWorstSliceAreConsistent() {
    EvaluationReport.ModelReport m = report.model("noisy-fc").orElseThrow();
    ClassificationDetail d = m.all().classification();
    assertThat(d.classes()).hasSize(10).startsWith("T-shirt/top");
    assertThat(d.perClass()).hasSize(10);
    assertThat(d.perClass().stream().mapToLong(ClassScores::support).sum()).isEqualTo(10_000);
    double macro = d.perClass().stream().mapToDouble(ClassScores::f1).average().orElseThrow();
    assertThat(m.all().metric("macro_f1").orElseThrow().value()).isCloseTo(macro, within(1e-9));
    long delta = 0;
    for (long[] row : d.confusionDelta()) {
      for (long v : row) {
        delta += v;
      }
    }
    assertThat(delta).as("confusion deltas move samples between cells").isZero();
    // One slice per class, each with its 1,000 test images, and accuracy per slice = class recall.
    assertThat(m.slices()).hasSize(11);
    EvaluationReport.SliceResult shirt = m.slice("label=Shirt").orElseThrow();
    assertThat(shirt.samples()).isEqualTo(1000);
    assertThat(shirt.metric("accuracy").orElseThrow().value())
        .isCloseTo(d.perClass().get(6).recall(), within(1e-12));
    EvaluationReport.WorstSlice worst = m.worstSlice();
    assertThat(worst).isNotNull();
    double worstDelta = worst.delta();
    for (EvaluationReport.SliceResult s : m.slices().subList(1, 11)) {
      assertThat(s.metric("accuracy").orElseThrow().delta()).isGreaterThanOrEqualTo(worstDelta);
    }
  }

  @Test
  void costAndHygieneAreReported() {
    for (EvaluationReport.ModelReport m : report.models()) {
      EvaluationReport.Cost c = m.cost();
      assertThat(c.latency().batches()).isEqualTo(157);
      assertThat(c.latency().p50()).isPositive().isLessThanOrEqualTo(c.latency().p95());
      assertThat(c.latency().p99()).isLessThanOrEqualTo(c.latency().max());
      assertThat(c.throughput()).isPositive();
      assertThat(c.energy().joules()).isPositive();
      assertThat(c.energy().method()).isIn("rapl", "estimate");
      assertThat(m.sizeBytes()).isGreaterThan(1_000_000);
    }
    assertThat(report.hygiene().testSamples()).isEqualTo(10_000);
    assertThat(report.hygiene().calibrationSamples()).isEqualTo(1000);
    assertThat(report.hygiene().distinctTestInputs() + report.hygiene().duplicateTestSamples())
        .isEqualTo(10_000);
    assertThat(report.peakRssBytes()).isPositive();
  }

  @Test
  void writesAllThreeReportFormats() throws Exception {
    JsonNode json = new ObjectMapper().readTree(out.resolve("report.json").toFile());
    assertThat(json.get("schema").asText()).isEqualTo(EvaluationReport.SCHEMA);
    JsonNode noisyAll = json.get("models").get(2).get("slices").get(0);
    assertThat(noisyAll.get("metrics").get(0).get("name").asText()).isEqualTo("accuracy");
    assertThat(noisyAll.get("classification").get("mcnemar").get("midP").isNumber()).isTrue();
    assertThat(json.get("models").get(0).get("cost").get("latency").get("p95").isNumber()).isTrue();
    String md = Files.readString(out.resolve("report.md"));
    assertThat(md)
        .contains("McNemar")
        .contains("| accuracy ↑ |")
        .contains("Per-class F1")
        .contains("label=Shirt")
        .contains("p95 ms");
    assertThat(md.length()).as("fits a GitHub comment").isLessThan(65_000);
    String html = Files.readString(out.resolve("report.html"));
    assertThat(html).contains("echarts").contains("id=\"frontier\"").doesNotContain("{{");
    assertThat(html).doesNotContain("src=\"http").doesNotContain("href=\"http");
  }

  @Test
  void evaluatingTwiceGivesTheSameNumbers() throws Exception {
    ObjectMapper json = new ObjectMapper();
    String first = null;
    for (int run = 0; run < 2; run++) {
      EvaluationReport r =
          Evaluation.builder()
              .baseline("fp32", cnn)
              .candidate("noisy-fc", noisy)
              .task(Tasks.parse("classification"))
              .data("part", DataSpec.parse(testSpec + "&limit=1000"))
              .sliceBy(Slicer.parse("label"))
              .build()
              .run();
      String metrics = json.writeValueAsString(r.models().stream().map(m -> m.slices()).toList());
      if (first == null) {
        first = metrics;
      } else {
        assertThat(metrics).as("metrics, slices and intervals of a second run").isEqualTo(first);
      }
    }
  }

  @Test
  void chromiumRendersTheChartsOffline() throws Exception {
    Optional<Path> chromium = Chromium.binary();
    assumeTrue(
        chromium.isPresent(),
        "chromium is not installed (apt-get install chromium); the screenshot test is skipped");
    Path png = out.resolve("report.png");
    Files.deleteIfExists(png);
    Chromium.screenshot(chromium.get(), out.resolve("report.html"), png, 3000);
    assertThat(Files.size(png)).as("a rendered page with charts").isGreaterThan(100_000);
  }

  private static int argmax(float[] x, int at) {
    int best = 0;
    for (int j = 1; j < 10; j++) {
      if (x[at + j] > x[at + best]) {
        best = j;
      }
    }
    return best;
  }

  static List<String> classNames() {
    return List.of(CLASSES.split(","));
  }
}

package io.quantguard.evaluate.drift;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.Evaluation;
import io.quantguard.evaluate.Tasks;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.report.CalibrationCoverage;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.ReportReader;
import io.quantguard.report.ReportWriter;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Fashion-MNIST CNN, int8 as {@code quantguard quantize} makes it (min/max ranges, 1,000
 * training images), watched against a profile of 1,000 training images on windows of 1,000 test
 * images: unchanged, inverted (1 − x), brightened (x·0.5 + 0.5) and unscaled (raw 0–255 pixels, a
 * forgotten /255).
 */
class CnnShiftTest {
  static final String INVERTED = "&mean=1&std=-1";
  static final String BRIGHTENED = "&mean=-1&std=2";
  static final String UNSCALED = "&scale=1";

  /** The quantized input: the CNN normalizes its [0, 1] pixels itself. */
  static final String INPUT = "/Div_output_0";

  @TempDir static Path tmp;
  static Path cnn;
  static String train;
  static ReferenceProfile profile;
  static CalibrationRanges ranges;
  static Path int8;

  @BeforeAll
  static void quantizeAndProfile() {
    cnn = TestModels.fashionCnn();
    train = "idx:" + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz") + "?input=image";
    int8 = quantize("minmax");
    ranges = CalibrationRanges.of(ModelIO.load(int8));
    profile =
        ReferenceProfile.builder().model(cnn).data(DataSpec.parse(train + "&limit=1000")).build();
  }

  static Path quantize(String method) {
    Path out = tmp.resolve("cnn-" + method + ".onnx");
    Recipe recipe =
        Recipe.defaults().toBuilder()
            .activations(
                Recipe.Activations.builder()
                    .type("uint8")
                    .symmetric(false)
                    .method(method)
                    .percentile(99.999)
                    .reduceRange(false)
                    .build())
            .build();
    ModelIO.save(
        Quantizer.quantize(
                ModelIO.load(cnn),
                recipe,
                DataSpec.parse(train + "&limit=1000"),
                Quantizer.Options.defaults())
            .model(),
        out);
    return out;
  }

  record Window(DriftResult drift, OverflowMeter overflow) {
    double inputOverflow() {
      return overflow.result("all").tensors().stream()
          .filter(t -> t.tensor().equals(INPUT))
          .findFirst()
          .orElseThrow()
          .rate();
    }
  }

  static Window window(String shift, CalibrationRanges r) {
    String test = "idx:" + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz");
    DriftWindow w = profile.newWindow();
    try (InferenceSession s = InferenceSession.open(cnn, SessionConfig.defaults());
        OverflowProbe probe = OverflowProbe.open(cnn, r, SessionConfig.defaults());
        BatchStream b = DataSpec.parse(test + "?input=image&limit=1000" + shift).open(100)) {
      OverflowMeter m = new OverflowMeter(probe.ranges(), 3);
      while (b.hasNext()) {
        Batch batch = b.next();
        w.add(batch, s.run(batch.inputs()));
        List<OverflowMeter.Sample> ids = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
          ids.add(new OverflowMeter.Sample("test#" + (batch.offset() + i), null));
        }
        m.add(probe.count(batch.inputs()), ids);
      }
      Window out = new Window(w.result(), m);
      DriftResult.FeatureDrift mean = out.drift().feature("image:mean").orElseThrow();
      DriftResult.FeatureDrift classes = out.drift().feature("logits:class").orElseThrow();
      System.out.printf(
          Locale.ROOT,
          "CNN window '%s' (%s ranges): drifted share %.2f, image:mean KS p %.3g PSI %.3f,"
              + " logits:class chi-square p %.3g PSI %.3f, overflow %.3g (input %.3g)%n",
          shift,
          Path.of(r.model()).getFileName(),
          out.drift().driftedShare(),
          mean.ksPValue(),
          mean.psi(),
          classes.chiSquarePValue(),
          classes.psi(),
          m.rate(),
          out.inputOverflow());
      return out;
    }
  }

  @Test
  void driftRisesForShiftedImagesAndStaysLowForUnchangedOnes() {
    Window same = window("", ranges);
    assertThat(same.drift().samples()).isEqualTo(1000);
    // 1,000 reference samples: Evidently's choice is KS and chi-square.
    assertThat(same.drift().feature("image:mean").orElseThrow().method())
        .isEqualTo(DriftTests.Method.KS);
    assertThat(same.drift().feature("logits:class").orElseThrow().method())
        .isEqualTo(DriftTests.Method.CHI_SQUARE);
    assertThat(same.drift().driftedShare()).isLessThanOrEqualTo(0.25);
    assertThat(same.drift().features()).allSatisfy(f -> assertThat(f.psi()).isLessThan(0.1));
    for (String shift : List.of(INVERTED, BRIGHTENED)) {
      DriftResult d = window(shift, ranges).drift();
      assertThat(d.driftedShare()).as(shift).isGreaterThanOrEqualTo(0.5);
      for (String f : List.of("image:mean", "image:zeros", "logits:class", "logits:confidence")) {
        DriftResult.FeatureDrift fd = d.feature(f).orElseThrow();
        assertThat(fd.drifted()).as(shift + " " + f).isTrue();
        assertThat(fd.score()).as(shift + " " + f).isLessThan(1e-6);
        assertThat(fd.psi()).as(shift + " " + f).isGreaterThan(0.2);
      }
      assertThat(d.feature("image:mean").orElseThrow().psi()).isGreaterThan(1);
    }
  }

  @Test
  void overflowRisesWhenTrafficLeavesTheCalibratedRanges() {
    // QuantGuard's QDQ model quantizes the FP32 tensors under their own names.
    assertThat(ranges.ranges()).hasSize(7);
    try (OverflowProbe probe = OverflowProbe.open(cnn, ranges, SessionConfig.defaults())) {
      assertThat(probe.unmatched()).isEmpty();
    }
    double same = window("", ranges).overflow().rate();
    Window unscaled = window(UNSCALED, ranges);
    assertThat(same).isLessThan(1e-6);
    // Every pixel above 0 leaves the input's range; a quarter of all activations clip (0.27).
    assertThat(unscaled.overflow().rate()).isGreaterThan(0.15);
    assertThat(unscaled.inputOverflow()).isGreaterThan(0.3);
    assertThat(unscaled.overflow().result("all").worstSamples()).hasSize(3);
    // Min/max ranges from 1,000 training images hold inverted and brightened images: their pixels
    // stay in [0, 1] and no activation grows beyond what the training images reached.
    for (String shift : List.of(INVERTED, BRIGHTENED)) {
      assertThat(window(shift, ranges).overflow().rate()).as(shift).isLessThan(1e-6);
    }
    // Entropy calibration clips the input's tails on purpose; inverted images fill them.
    CalibrationRanges tight = CalibrationRanges.of(ModelIO.load(quantize("entropy")));
    Window tightSame = window("", tight);
    Window tightInverted = window(INVERTED, tight);
    assertThat(tightInverted.inputOverflow()).isGreaterThan(10 * tightSame.inputOverflow());
    assertThat(tightInverted.overflow().rate()).isGreaterThan(1.5 * tightSame.overflow().rate());
  }

  @Test
  void anEvaluationReportsCoveragePerSliceAndNamesTheSamplesThatClip() throws Exception {
    String test = "idx:" + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz");
    EvaluationReport r =
        Evaluation.builder()
            .baseline("fp32", cnn)
            .candidate("int8", int8)
            .task(Tasks.parse("classification"))
            .data("test", DataSpec.parse(test + "?input=image&limit=300"))
            .data("unscaled", DataSpec.parse(test + "?input=image&offset=300&limit=200&scale=1"))
            .calibrationRanges(int8)
            .batchSize(100)
            .bootstrap(new Bootstrap(0, 0.95, 1))
            .build()
            .run();
    CalibrationCoverage c = r.calibrationCoverage();
    assertThat(c.tensors()).isEqualTo(7);
    assertThat(c.slices())
        .extracting(CalibrationCoverage.Slice::slice)
        .containsExactly("all", "data=test", "data=unscaled");
    CalibrationCoverage.Slice all = c.slices().get(0);
    CalibrationCoverage.Slice same = c.slices().get(1);
    CalibrationCoverage.Slice unscaled = c.slices().get(2);
    assertThat(all.samples()).isEqualTo(500);
    assertThat(all.values()).isEqualTo(same.values() + unscaled.values());
    assertThat(all.clipped()).isEqualTo(same.clipped() + unscaled.clipped());
    assertThat(same.rate()).isLessThan(1e-6);
    assertThat(unscaled.rate()).isGreaterThan(0.15);
    assertThat(all.worstSamples())
        .hasSize(5)
        .allSatisfy(s -> assertThat(s.sample()).startsWith("unscaled#"));
    Path dir = tmp.resolve("report");
    ReportWriter.write(r, dir);
    assertThat(ReportReader.read(dir).calibrationCoverage()).isEqualTo(c);
    assertThat(Files.readString(dir.resolve("report.md")))
        .contains("### Calibration coverage")
        .contains("| data=unscaled | 200 |")
        .contains("### Samples that clip most");
    assertThat(Files.readString(dir.resolve("report.html"))).contains("Calibration coverage");
    assertThat(ReportWriter.summary(r)).contains("Calibration coverage: ");
  }
}

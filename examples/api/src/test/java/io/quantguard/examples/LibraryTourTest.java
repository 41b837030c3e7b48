package io.quantguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.evaluate.Evaluation;
import io.quantguard.evaluate.Slicer;
import io.quantguard.evaluate.Tasks;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.QuantizationResult;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.registry.ArtifactVersion;
import io.quantguard.registry.Registration;
import io.quantguard.registry.Registry;
import io.quantguard.registry.Stage;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.Judgement;
import io.quantguard.report.Policy;
import io.quantguard.runtime.data.DataSource;
import io.quantguard.runtime.data.DataSpec;
import io.quantguard.tune.TuneResult;
import io.quantguard.tune.Tuner;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's "As a library" section, run: quantize, evaluate against FP32, judge with a policy,
 * tune to it, and register with lineage, through the public builders only. The code between the
 * markers is what the README shows.
 */
class LibraryTourTest {
  @TempDir Path work;

  @Test
  void quantizeEvaluateTuneAndRegisterInAFewLines() {
    Path fp32File = TestModels.fashionCnn();
    String images = TestModels.fashionMnistSample("train-images-idx3-ubyte.gz").toString();
    String tests = TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz").toString();

    // --- tour ---
    DataSource calibration = DataSpec.parse("idx:" + images + "?input=image&limit=500");
    DataSource test = DataSpec.parse("idx:" + tests + "?input=image");

    // Quantize: static int8 with the default recipe, calibrated on 500 images.
    OnnxModel fp32 = ModelIO.load(fp32File);
    QuantizationResult int8 =
        Quantizer.quantize(
            fp32, Recipe.builder().build(), calibration, Quantizer.Options.defaults());
    Path int8File = work.resolve("cnn-int8.onnx");
    ModelIO.save(int8.model(), int8File);

    // Evaluate against FP32 on the same batches, per class, and judge with a policy.
    EvaluationReport report =
        Evaluation.builder()
            .baseline("fp32", fp32File)
            .candidate("int8", int8File)
            .task(Tasks.parse("classification"), "classification")
            .data("test", test)
            .sliceBy(Slicer.parse("label"))
            .build()
            .run();
    Policy policy =
        Policy.parse("rules:\n  accuracy: {max_drop: 1%}\n  size: {max_ratio: 0.3}\n", "release");
    Judgement verdict = policy.judge(report);

    // Tune int4 weights to a stricter size limit: the fewest layers back at int8 that keep
    // accuracy.
    TuneResult tuned =
        Tuner.builder()
            .model(fp32File)
            .start(RecipeIO.read(Path.of("../../recipes/cnn-w4a8.yaml")))
            .calibration(calibration)
            .data("test", test)
            .task("classification")
            .policy(
                Policy.parse(
                    "rules:\n  accuracy: {max_drop: 1%}\n  size: {max_ratio: 0.2}\n", "small"))
            .budget(8)
            .run(work.resolve("tuned"));

    // Register FP32 and the tuned model with its lineage and report; promote it with a reason.
    Registry registry = Registry.open(work.resolve("registry").toString());
    ArtifactVersion base =
        registry.register(
            new Registration(fp32File, "fashion-cnn", null, null, null, "FP32", "tour"));
    ArtifactVersion small =
        registry.register(
            new Registration(
                work.resolve("tuned/model.onnx"),
                "fashion-cnn",
                base.ref().toString(),
                null,
                work.resolve("tuned/report"),
                "tuned W4A8",
                "tour"));
    registry.promote(small.ref(), Stage.PRODUCTION, "meets the release policy", "tour");
    // --- end ---

    assertThat(verdict.passed()).as("int8 on 2,000 images: %s", verdict).isTrue();
    assertThat(report.candidates().get(0).slices()).hasSizeGreaterThanOrEqualTo(10);
    assertThat(int8.report().quantizedNodesByOp()).containsKeys("Conv", "Gemm");
    assertThat(tuned.passed()).isTrue();
    assertThat(tuned.best().sizeRatio()).isLessThanOrEqualTo(0.2);
    assertThat(registry.version(small.ref()).stage()).isEqualTo(Stage.PRODUCTION);
    assertThat(registry.version(small.ref()).parent()).isEqualTo(base.ref());
    assertThat(registry.version(small.ref()).reportSha256()).isNotNull();
  }
}

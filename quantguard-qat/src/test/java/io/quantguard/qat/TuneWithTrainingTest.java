package io.quantguard.qat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.report.Policy;
import io.quantguard.report.Sha256;
import io.quantguard.runtime.data.DataSpec;
import io.quantguard.tune.TrainingOutcome;
import io.quantguard.tune.TrainingRepair;
import io.quantguard.tune.Trial;
import io.quantguard.tune.TuneResult;
import io.quantguard.tune.Tuner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Quantization-aware training inside the tuner, on the Fashion-MNIST CNN at W4A8 (about a point
 * below FP32): the tuner finds this module's training through the service file, tries it once
 * before fallback on unlabelled calibration data, measures it like any trial, and a resumed run
 * takes the trained model from the state instead of training again.
 */
class TuneWithTrainingTest {
  @TempDir Path tmp;

  private static Tuner.Builder tuner() {
    String train =
        "idx:" + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz") + "?input=image";
    String test =
        "idx:"
            + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz")
            + "?input=image&limit=1000";
    return Tuner.builder()
        .model(TestModels.fashionCnn())
        .start(RecipeIO.read(Path.of("..", "recipes", "cnn-w4a8.yaml")))
        .calibration(DataSpec.parse(train + "&limit=1000"))
        .data("test", DataSpec.parse(test))
        .task("classification")
        // W4A8 loses more than this: only fallback could meet it, so training is tried first
        .policy(Policy.parse("name: tight\nrules:\n  accuracy: {max_drop: 0.1%}\n", "policy"))
        .repairs(Set.of("calibrator", "weights", "qat"))
        .repairTop(1)
        .rankSamples(32)
        .qatSteps(40)
        .budget(4)
        .batchSize(250)
        .bootstrap(50)
        .log(System.out::println);
  }

  @Test
  void theTunerFindsThisModulesTraining() {
    assertThat(TrainingRepair.find()).isInstanceOf(QuantizationAwareRepair.class);
  }

  @Test
  void trainingIsTriedBeforeFallbackMeasuredReportedAndNotRepeatedOnResume() throws Exception {
    Path out = tmp.resolve("tuned");
    TuneResult r = tuner().run(out);

    TrainingOutcome qat = r.training();
    assertThat(qat).as("quantization-aware training was tried").isNotNull();
    System.out.println("QAT outcome: " + qat);
    assertThat(qat.steps()).isEqualTo(40);
    assertThat(qat.trial()).isNotNull();
    Trial trained = r.trials().get(qat.trial() - 1);
    assertThat(trained.phase()).isEqualTo("qat");
    Trial before = r.trials().get(qat.beforeTrial() - 1);
    assertThat(before.phase()).isIn("start", "repair");
    assertThat(before.index()).isLessThan(trained.index());
    // the repair fitted weights by MSE, which training cannot take: it trained the start recipe
    assertThat(qat.recipeTrial()).isIn(1, before.index());
    assertThat(qat.before()).isNotNull().isEqualTo(before.quality());
    assertThat(qat.after()).isNotNull().isEqualTo(trained.quality());
    // 40 steps at W4A8 recover part of the loss (measured 0.914 → 0.920 of FP32's 0.927): closer
    // to the policy, not there, and still the best candidate the budget of 4 trials found
    assertThat(qat.improved()).isTrue();
    assertThat(qat.after()).isGreaterThan(qat.before());
    assertThat(trained.qualityPassed()).isFalse();
    // The fallback to int8 weights (W8A32) can meet the policy within the budget (measured 0.929
    // on an AVX-512 VNNI CPU), and a passing trial outranks the failing trained one.
    boolean fallbackPassed = r.trials().stream().anyMatch(Trial::passed);
    if (fallbackPassed) {
      assertThat(r.best().passed()).isTrue();
      assertThat(r.best().phase()).isEqualTo("fallback");
    } else {
      assertThat(r.best().recipeSha256()).isEqualTo(trained.recipeSha256());
      assertThat(r.decisions())
          .anyMatch(d -> d.action().equals("repair: quantization-aware training"));
      assertThat(RecipeIO.read(out.resolve("recipe.yaml")).rationale())
          .contains("quantization-aware training")
          .contains(qat.modelSha256().substring(0, 12));
    }
    // the fallback search went on from the original weights, not the trained ones
    assertThat(r.trials()).anyMatch(t -> t.phase().equals("fallback"));
    // the trained FP32 model lies in the output directory, as hashed in the state
    Path model = out.resolve(qat.model());
    assertThat(Sha256.of(model)).isEqualTo(qat.modelSha256());
    assertThat(Files.readString(out.resolve("tuning-state.json"))).contains(qat.modelSha256());
    assertThat(Files.readString(out.resolve("tuning.md")))
        .contains("## Quantization-aware training")
        .contains(qat.description());

    // the exported model runs on ONNX Runtime and is as accurate as its trial measured
    var test = Classifier.sample("t10k-images-idx3-ubyte.gz", 1000);
    double accuracy = Classifier.onnxRuntime(ModelIO.load(out.resolve("model.onnx")), test);
    System.out.printf(
        "tuned model on ONNX Runtime: %.4f (best trial %d, quality %s)%n",
        accuracy, r.best().index(), r.best().quality());
    assertThat(accuracy).isGreaterThan(0.85).isCloseTo(r.best().quality(), within(0.0015));

    // resumed: the trained model is taken from the state, not trained again
    FileTime written = Files.getLastModifiedTime(model);
    TuneResult again = tuner().run(out);
    assertThat(again.training()).isEqualTo(r.training());
    assertThat(again.trials()).isEqualTo(r.trials());
    assertThat(Files.getLastModifiedTime(model)).isEqualTo(written);
  }
}

package io.quantguard.qat;

import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.data.DataSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The headline figure, measured rather than pinned (a run takes minutes, so it is not in
 * the default test set: {@code mvn test -pl quantguard-qat -am -Dtest=CnnW4A8Measurement
 * -Dsurefire.failIfNoSpecifiedTests=false}). The Fashion-MNIST CNN with all four layers at int4
 * (the shipped W4A8 recipe) on the 10,000 test images through ONNX Runtime: FP32, PTQ, QAT with
 * labels, QAT by distillation and an FP32 model fine-tuned for the same steps, one epoch over the
 * 60,000 training images each. Skips without the full data set. {@code QAT_RECIPE=cnn-w3a8.yaml} or
 * {@code cnn-w4a4.yaml} measures PyTorch's other baselines, {@code QAT_LEARN_RANGES=true} adds a
 * run with learned activation step sizes (LSQ).
 */
class CnnW4A8Measurement {
  // surefire's fork inherits the environment: QAT_LR=3e-5 QAT_EPOCHS=2 QAT_ONLY=true mvn ...
  private static final float LR = Float.parseFloat(setting("QAT_LR", "3e-5"));
  private static final boolean QAT_ONLY = Boolean.parseBoolean(setting("QAT_ONLY", "false"));
  private static final int EPOCHS = Integer.parseInt(setting("QAT_EPOCHS", "1"));
  // QAT_RECIPE=cnn-w3a8.yaml (or cnn-w4a4.yaml) measures another precision with the same steps
  private static final String RECIPE = setting("QAT_RECIPE", "cnn-w4a8.yaml");
  private static final boolean DISTILL = Boolean.parseBoolean(setting("QAT_DISTILL", "true"));
  // QAT_LEARN_RANGES=true also trains with learned activation step sizes (LSQ); QAT_FROZEN=false
  // leaves out the run with frozen ranges
  private static final boolean LEARN = Boolean.parseBoolean(setting("QAT_LEARN_RANGES", "false"));
  private static final boolean FROZEN = Boolean.parseBoolean(setting("QAT_FROZEN", "true"));

  private static String setting(String name, String fallback) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? fallback : v;
  }

  @Test
  void w4a8() {
    DataSource train = Classifier.full("train-images-idx3-ubyte.gz");
    DataSource test = Classifier.full("t10k-images-idx3-ubyte.gz");
    OnnxModel fp32 = ModelIO.load(TestModels.fashionCnn());
    Recipe recipe = RecipeIO.read(Path.of("..", "recipes", RECIPE));
    OnnxModel ptq = quantize(fp32, recipe);
    report("FP32", Classifier.onnxRuntime(fp32, test));
    report(RECIPE + " PTQ", Classifier.onnxRuntime(ptq, test));

    if (!QAT_ONLY) {
      OnnxModel tuned = fp32.copy();
      try (TrainableGraph g = TrainableGraph.builder(fp32).build()) {
        FineTuning.Result r =
            FineTuning.builder(g)
                .data(train)
                .output("logits")
                .epochs(EPOCHS)
                .batchSize(64)
                .learningRate(LR)
                .seed(1)
                .progress(progress("FP32 fine-tune"))
                .run();
        report("FP32 fine-tune", r);
        g.writeTo(tuned);
      }
      report("FP32 fine-tuned", Classifier.onnxRuntime(tuned, test));
      report(
          "FP32 fine-tuned, then " + RECIPE + " PTQ",
          Classifier.onnxRuntime(quantize(tuned, recipe), test));
    }
    if (FROZEN) {
      qat("QAT labels", recipe, fp32, train, test, false, false);
    }
    if (LEARN) {
      qat("QAT labels, learned step sizes (LSQ)", recipe, fp32, train, test, false, true);
    }
    if (DISTILL) {
      qat("QAT distillation", recipe, fp32, train, test, true, false);
    }
    System.out.println("peak " + rss("VmHWM"));
  }

  /**
   * Trains and exports with {@link QuantizationAwareTraining}; reports the engine's accuracy (the
   * fake-quantized graph with the trained weights) and the exported model's on ONNX Runtime.
   */
  private static void qat(
      String what,
      Recipe recipe,
      OnnxModel fp32,
      DataSource train,
      DataSource test,
      boolean kl,
      boolean learn) {
    QuantizationAwareTraining.Result r =
        QuantizationAwareTraining.builder(fp32, recipe)
            .data(train)
            .calibration(Classifier.sample("train-images-idx3-ubyte.gz", 2000))
            .distill(kl)
            .learnRanges(learn)
            .output("logits")
            .epochs(EPOCHS)
            .batchSize(64)
            .learningRate(LR)
            .seed(1)
            .progress(progress(what))
            .run();
    report(what, r.training());
    try (TrainableGraph g =
        TrainableGraph.builder(r.trained()).frozen().fakeQuantization(r.quantization()).build()) {
      report(what + ", engine (fake-quantized)", Classifier.engine(g, test));
    }
    report(what + ", exported on ORT", Classifier.onnxRuntime(r.quantized().model(), test));
  }

  private static Progress progress(String what) {
    return (stage, done, total) -> {
      if (stage.startsWith("fine-tuning") && done % 200 == 0) {
        System.out.printf("  %s: step %d of %d, %s, %s%n", what, done, total, stage, rss("VmRSS"));
      }
    };
  }

  private static void report(String what, FineTuning.Result r) {
    System.out.printf(
        "%s: %d steps in %.1f s, loss %.4f -> %.4f (lr %s)%n",
        what, r.steps(), r.seconds(), r.firstLoss(), r.lastLoss(), LR);
  }

  private static OnnxModel quantize(OnnxModel m, Recipe recipe) {
    return Quantizer.quantize(
            m,
            recipe,
            Classifier.sample("train-images-idx3-ubyte.gz", 2000),
            Quantizer.Options.defaults())
        .model();
  }

  private static void report(String what, double accuracy) {
    System.out.printf("%-40s top-1 %.4f%n", what, accuracy);
  }

  /** A line of /proc/self/status: VmRSS (resident now) or VmHWM (peak). */
  private static String rss(String field) {
    try {
      return Files.readAllLines(Path.of("/proc/self/status")).stream()
          .filter(l -> l.startsWith(field))
          .map(l -> l.replaceAll("\\s+", " "))
          .findFirst()
          .orElse("?");
    } catch (IOException e) {
      return "?";
    }
  }
}

package io.quantguard.workflow;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.qat.FineTuning;
import io.quantguard.qat.LibTorch;
import io.quantguard.qat.QuantizationAwareTraining;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.report.AtomicFile;
import io.quantguard.runtime.data.DataSource;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The tune step of the {@code qat} approach: the start recipe's static quantizers trained into the
 * FP32 weights ({@link QuantizationAwareTraining}), then the model exported with the ranges it
 * trained with. Checkpoints go to the step directory's {@link StepStore#CHECKPOINTS}, which the
 * store keeps for a rerun of an interrupted step.
 */
final class Training {
  /** Steps between validations and between checkpoints unless the project says, as in qat. */
  private static final int EVERY = 50;

  private Training() {}

  static Workflow.Candidate train(
      ProjectInputs in, Path model, Recipe start, String calibration, Path dir, Path out) {
    Project.QatSettings s = in.project.qat();
    DataSource data =
        DataSpec.parse(
            s.data() != null ? in.project.spec(new Project.DataSet(s.data(), null)) : calibration);
    boolean distill = s.distill() != null ? s.distill() : !data.hasLabels();
    if (!distill && !data.hasLabels()) {
      throw new InvalidInputException(
          in.project.source() + ": qat.distill",
          "is false but the training data has no labels",
          "give qat.data with labels, or set qat.distill: true to train towards the FP32 outputs");
    }
    LibTorch.start();
    OnnxModel fp32 = ModelIO.load(model);
    QuantizationAwareTraining.Builder run =
        QuantizationAwareTraining.builder(fp32, start)
            .data(data)
            .calibration(DataSpec.parse(calibration))
            .distill(distill)
            .progress(in.listener.progress())
            .options(new Quantizer.Options(in.session(), in.listener.progress()));
    if (s.epochs() != null) {
      run.epochs(s.epochs());
    }
    if (s.maxSteps() != null) {
      run.maxSteps(s.maxSteps());
    }
    if (s.lr() != null) {
      run.learningRate(s.lr().floatValue());
    }
    if (s.batchSize() != null) {
      run.batchSize(s.batchSize());
    }
    if (s.validation() != null) {
      run.validation(
          DataSpec.parse(in.project.spec(Project.DataSet.of(s.validation()))),
          s.validateEvery() != null ? s.validateEvery() : EVERY);
    }
    if (s.patience() != null) {
      run.patience(s.patience());
    }
    if (Boolean.TRUE.equals(s.checkpoints())) {
      run.checkpoints(
          dir.resolve(StepStore.CHECKPOINTS),
          s.checkpointEvery() != null ? s.checkpointEvery() : EVERY);
    }
    QuantizationAwareTraining.Result r = run.run();
    Path file = dir.resolve("model.onnx");
    ModelIO.save(r.quantized().model(), file);
    Path recipeFile =
        AtomicFile.write(dir.resolve("recipe.yaml"), RecipeIO.toYaml(r.quantized().recipe()));
    FineTuning.Result t = r.training();
    StringBuilder what =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "quantization-aware training: %d steps (%s) in %.0f s, loss %.4f -> %.4f",
                t.steps(),
                distill ? "distillation towards FP32" : "labels",
                t.seconds(),
                t.firstLoss(),
                t.lastLoss()));
    if (t.resumedFrom() > 0) {
      what.append("; resumed from the checkpoint at step ").append(t.resumedFrom());
    }
    if (s.validation() != null) {
      what.append(
          String.format(
              Locale.ROOT,
              "; validation best loss %.4f at step %d%s",
              t.validationLoss(),
              t.bestStep(),
              t.stoppedEarly() ? " (stopped early)" : ""));
    }
    what.append("; exported with the activation ranges it trained with");
    return new Workflow.Candidate(
        Recipe.Mode.STATIC,
        out.relativize(file).toString(),
        out.relativize(recipeFile).toString(),
        RecipeIO.sha256(r.quantized().recipe().resolved()),
        false,
        null,
        0,
        0,
        0,
        List.of(what.toString()),
        true);
  }
}

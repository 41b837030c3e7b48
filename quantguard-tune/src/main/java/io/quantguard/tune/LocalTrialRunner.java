package io.quantguard.tune;

import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.Evaluation;
import io.quantguard.evaluate.Tasks;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.quantize.Calibration;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.ReportReader;
import io.quantguard.report.ReportWriter;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.data.Batch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Trials on this machine: quantize with the one calibration, write the model to {@code
 * trials/NNN.onnx} for the evaluation (deleted afterwards), evaluate it against FP32, keep the
 * report as {@code trials/NNN.report.json}. The probe runs the quantized model on the first samples
 * of the first data set against FP32 outputs computed once.
 */
final class LocalTrialRunner implements TrialRunner {
  private final Tuner.Inputs in;
  private final Tuner.Options opt;
  private final Path trials;
  private final OnnxModel fp32;
  private final Calibration cal;
  private final Quantizer.Options q;
  private @Nullable ReferenceOutputs reference;
  private @Nullable Calibration trained;

  LocalTrialRunner(
      Tuner.Inputs in, Tuner.Options opt, Path trials, OnnxModel fp32, Calibration cal) {
    this.in = in;
    this.opt = opt;
    this.trials = trials;
    this.fp32 = fp32;
    this.cal = cal;
    this.q = new Quantizer.Options(opt.session(), Progress.NONE);
  }

  /**
   * Measures the recipes that say they are quantized from trained weights ({@link Tuner#TRAINED})
   * on {@code model}, calibrated like the original. The baseline stays the original FP32 model.
   */
  void trainedWeights(OnnxModel model) {
    trained = Quantizer.calibrate(model, in.start(), in.calibration(), q);
  }

  /** The model {@code recipe} makes, from the weights it names. */
  OnnxModel quantize(Recipe recipe) {
    String note = recipe.rationale();
    Calibration c = cal;
    if (note != null && note.contains(Tuner.TRAINED)) {
      c = trained;
      if (c == null) {
        throw new IllegalStateException("no trained weights for a recipe that names them");
      }
    }
    return Quantizer.quantize(c, recipe, q).model();
  }

  @Override
  public double outputSqnrDb(Recipe recipe) {
    return reference().outputSqnr(quantize(recipe)).db();
  }

  /** The FP32 outputs on the ranking samples, computed when first needed. */
  private ReferenceOutputs reference() {
    ReferenceOutputs r = reference;
    if (r == null) {
      List<Batch> data = ReferenceOutputs.read(in.data().get(0).source(), opt.rankSamples());
      r = new ReferenceOutputs(fp32, data, List.of(), opt.session());
      reference = r;
    }
    return r;
  }

  @Override
  public Outcome run(int index, Recipe recipe, boolean confirmation) {
    Path model = trials.resolve(String.format(Locale.ROOT, "%03d.onnx", index));
    EvaluationReport report;
    try {
      Files.createDirectories(trials);
      ModelIO.save(quantize(recipe), model);
      report =
          evaluate(
              model, confirmation && !in.confirmData().isEmpty() ? in.confirmData() : in.data());
      Files.writeString(reportFile(index), ReportWriter.json(report));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      try {
        Files.deleteIfExists(model);
      } catch (IOException e) {
        // a leftover trial model is harmless; the next run overwrites it
      }
    }
    return Trials.of(report, in.policy().judge(report));
  }

  /** The evaluation report trial {@code index} wrote. */
  EvaluationReport report(int index) {
    return ReportReader.read(reportFile(index));
  }

  private Path reportFile(int index) {
    return trials.resolve(String.format(Locale.ROOT, "%03d.report.json", index));
  }

  private EvaluationReport evaluate(Path candidate, List<Evaluation.Data> data) {
    Evaluation.Builder b =
        Evaluation.builder()
            .baseline("fp32", in.model())
            .candidate("tuned", candidate)
            .task(Tasks.parse(in.taskSpec()), in.taskSpec())
            .batchSize(opt.batchSize())
            .session(opt.session())
            .bootstrap(new Bootstrap(opt.bootstrap(), 0.95, opt.seed()));
    for (Evaluation.Data d : data) {
      b.data(d.name(), d.source());
    }
    in.sliceBy().forEach(b::sliceBy);
    return b.build().run();
  }
}

package io.quantguard.cli;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.qat.Distillation;
import io.quantguard.qat.FineTuning;
import io.quantguard.qat.LearningRateSchedule;
import io.quantguard.qat.LibTorch;
import io.quantguard.qat.Optimizer;
import io.quantguard.qat.QuantizationAwareTraining;
import io.quantguard.quantize.QuantizationReport;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.ResourceLocator;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.DataSource;
import io.quantguard.runtime.data.DataSpec;
import io.quantguard.tune.SensitivityAnalysis;
import io.quantguard.tune.SensitivityReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code quantguard qat}: fine-tunes the FP32 model with the recipe's quantizers in the loop (on
 * libtorch, through quantguard-qat) and writes the quantized model, whose activation scales are the
 * ones the training used. libtorch is not on the class path of the other commands: the launcher
 * adds it for this one.
 */
@Command(
    name = "qat",
    mixinStandardHelpOptions = true,
    description =
        "Quantization-aware training: fine-tune with the recipe's quantizers in the loop, then"
            + " quantize.")
final class QatCommand implements Callable<Integer> {
  @Option(
      names = "--model",
      required = true,
      description = "the FP32 model (file, maven:... reference or known name)")
  String model;

  @Option(
      names = "--data",
      required = true,
      description =
          "training data spec (see README); labels come with it (idx: finds the labels file next"
              + " to the images, or ?labels=FILE)")
  String data;

  @ArgGroup(exclusive = true)
  @Nullable Loss loss;

  static final class Loss {
    @Option(
        names = "--labels",
        description = "cross-entropy on the data's labels (the default when the data has labels)")
    boolean labels;

    @Option(
        names = "--distill",
        description = "distil from the FP32 model (see --distill-loss): needs no labels")
    boolean distill;
  }

  @Option(
      names = "--distill-loss",
      description =
          "kl (KL divergence of the output softmax: logits), mse, or cosine (of the outputs; token"
              + " states are mean-pooled over the attention mask first). Default: cosine for a"
              + " model with an attention_mask input and [batch, sequence, hidden] outputs, else kl")
  @Nullable String distillLoss;

  @Option(
      names = "--distill-match",
      split = ",",
      description =
          "intermediate tensors (e.g. block outputs) also matched to FP32's by relative squared"
              + " error, comma-separated")
  List<String> distillMatch = List.of();

  @Option(
      names = "--distill-match-weight",
      defaultValue = "1",
      description = "the weight of the matched intermediates against the output loss (1)")
  float distillMatchWeight;

  @Option(
      names = "--recipe",
      description =
          "recipe file (YAML or JSON), static with min/max weight ranges (default: int8 static)")
  @Nullable Path recipeFile;

  @Option(
      names = "--calibration",
      description = "data spec the activation ranges are calibrated on (default: --data)")
  @Nullable String calibration;

  @Option(names = "--epochs", defaultValue = "1", description = "passes over the data (default 1)")
  int epochs;

  @Option(
      names = "--max-steps",
      defaultValue = "-1",
      description = "stop after this many steps in all (default: no limit)")
  long maxSteps;

  @Option(
      names = "--layers",
      defaultValue = "all",
      description =
          "all, sensitive[:N] (the N nodes whose quantization alone costs the model output the"
              + " most SQNR, measured first on 256 samples; N = 2), or the nodes whose parameters"
              + " train, comma-separated (default all)")
  String layers;

  @Option(
      names = "--learn-ranges",
      description =
          "learn the activation step sizes (LSQ) from the calibrated ones, instead of keeping the"
              + " calibrated ranges frozen")
  boolean learnRanges;

  @Option(names = "--lr", defaultValue = "3e-5", description = "the peak learning rate (3e-5)")
  float learningRate;

  @Option(
      names = "--optimizer",
      defaultValue = "adam",
      description = "adam, or sgd (with momentum 0.9) (default adam)")
  String optimizer;

  @Option(
      names = "--schedule",
      defaultValue = "constant",
      description =
          "the learning rate after warm-up: constant, or cosine (decays to 0 at the last step;"
              + " needs --max-steps or data of known size) (default constant)")
  String schedule;

  @Option(
      names = "--warmup",
      defaultValue = "0",
      description = "steps over which the learning rate rises linearly from 0 (default 0)")
  long warmup;

  @Option(
      names = "--validation",
      description =
          "held-out data spec: the loss on it is measured every --validate-every steps, and the"
              + " best values (not the last) are exported")
  @Nullable String validation;

  @Option(
      names = "--validate-every",
      defaultValue = "50",
      description = "steps between validations (50)")
  long validateEvery;

  @Option(
      names = "--patience",
      defaultValue = "0",
      description =
          "stop after this many validations in a row without a better loss (default 0: never)")
  int patience;

  @Option(
      names = "--checkpoints",
      description =
          "folder for a checkpoint every --checkpoint-every steps; rerunning the same command"
              + " continues from it")
  @Nullable Path checkpoints;

  @Option(
      names = "--checkpoint-every",
      defaultValue = "50",
      description = "steps between checkpoints (50)")
  long checkpointEvery;

  @Option(names = "--batch-size", defaultValue = "64", description = "training batch (64)")
  int batchSize;

  @Option(names = "--seed", defaultValue = "42", description = "the same seed, the same model")
  long seed;

  @Option(names = "--logits", description = "the output the loss reads (default: the only one)")
  @Nullable String logits;

  @Option(
      names = {"-o", "--out"},
      required = true,
      description = "where to write the quantized model")
  Path out;

  @Option(
      names = "--threads",
      defaultValue = "0",
      description = "ONNX Runtime intra-op threads for calibration (0 = all cores)")
  int threads;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter stdout = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    OnnxModel fp32 = ModelIO.load(ResourceLocator.resolve(model));
    Recipe recipe = recipeFile != null ? RecipeIO.read(recipeFile) : Recipe.builder().build();
    DataSource train = DataSpec.parse(data);
    boolean distill = loss != null && loss.distill;
    if (!distill && !train.hasLabels()) {
      throw new InvalidInputException(
          data,
          "has no labels for cross-entropy",
          "give a spec with labels (idx: finds the labels file next to the images; ?labels=FILE),"
              + " or use --distill");
    }
    LibTorch.start();
    Progress progress = progress(err);
    QuantizationAwareTraining.Builder run =
        QuantizationAwareTraining.builder(fp32, recipe)
            .data(train)
            .distill(distill)
            .learnRanges(learnRanges)
            .layers(layers(fp32, recipe, train, err))
            .epochs(epochs)
            .batchSize(batchSize)
            .maxSteps(maxSteps)
            .learningRate(learningRate)
            .optimizer(Optimizer.parse(optimizer))
            .schedule(LearningRateSchedule.parse(schedule), warmup)
            .patience(patience)
            .seed(seed)
            .progress(progress)
            .options(
                new Quantizer.Options(SessionConfig.defaults().withThreads(threads), progress));
    Distillation how = distillation(fp32);
    if (distill) {
      run.distill(how);
    }
    if (calibration != null) {
      run.calibration(DataSpec.parse(calibration));
    }
    if (validation != null) {
      run.validation(DataSpec.parse(validation), validateEvery);
    }
    if (checkpoints != null) {
      run.checkpoints(checkpoints, checkpointEvery);
    }
    if (logits != null) {
      run.output(logits);
    }
    QuantizationAwareTraining.Result result = run.run();
    if (progress instanceof TerminalProgress tp) {
      tp.finish();
    }
    ModelIO.save(result.quantized().model(), out);
    FineTuning.Result t = result.training();
    QuantizationReport r = result.quantized().report();
    stdout.printf(
        Locale.ROOT,
        "Trained     %d steps in %.1f s (%s), loss %.4f -> %.4f%n",
        t.steps(),
        t.seconds(),
        distill ? "distillation, " + how.loss().name().toLowerCase(Locale.ROOT) : "labels",
        t.firstLoss(),
        t.lastLoss());
    if (t.resumedFrom() > 0) {
      stdout.printf(
          "Resumed     from the checkpoint at step %d in %s%n", t.resumedFrom(), checkpoints);
    }
    if (validation != null) {
      stdout.printf(
          Locale.ROOT,
          "Validation  best loss %.4f at step %d%s; exported the values of that step%n",
          t.validationLoss(),
          t.bestStep(),
          t.stoppedEarly()
              ? " (stopped early: no better loss in " + patience + " validations)"
              : "");
    }
    stdout.printf(
        "Quantized   %s -> %s (%s, activation ranges %s)%n",
        model,
        out,
        r.quantizedNodesByOp().entrySet().stream()
            .map(e -> e.getKey() + "×" + e.getValue())
            .reduce((a, b) -> a + ", " + b)
            .orElse("nothing"),
        learnRanges ? "as learned (LSQ)" : "as calibrated, frozen in training");
    stdout.printf(
        "Tensors     %d activations, %d weights quantized; opset %d -> %d%n",
        r.quantizedActivations(), r.quantizedWeights(), r.opsetBefore(), r.opsetAfter());
    r.notes().forEach(n -> stdout.printf("Note        %s%n", n));
    return ExitCodes.OK;
  }

  /**
   * The distillation loss: as asked, or cosine of the mean-pooled token states for an encoder (an
   * attention_mask input and a rank-3 output), else KL of the logits.
   */
  private Distillation distillation(OnnxModel fp32) {
    String mask = "attention_mask";
    boolean encoder =
        fp32.graph().runtimeInputs().stream().anyMatch(v -> v.getName().equals(mask))
            && fp32.graph().outputs().stream()
                .filter(v -> logits == null || v.getName().equals(logits))
                .findFirst()
                .flatMap(v -> fp32.graph().typeOf(v.getName()))
                .filter(t -> t.rankKnown() && t.rank() == 3)
                .isPresent();
    Distillation.Loss loss =
        distillLoss != null
            ? Distillation.Loss.parse(distillLoss)
            : encoder ? Distillation.Loss.COSINE : Distillation.Loss.KL;
    Distillation d =
        new Distillation(
            loss, loss == Distillation.Loss.COSINE && encoder ? mask : null, List.of(), 0);
    return distillMatch.isEmpty() ? d : d.withIntermediates(distillMatch, distillMatchWeight);
  }

  private List<String> layers(OnnxModel fp32, Recipe recipe, DataSource train, PrintWriter err) {
    if (layers.equals("all")) {
      return List.of();
    }
    if (layers.equals("sensitive") || layers.startsWith("sensitive:")) {
      return sensitive(fp32, recipe, train, err);
    }
    List<String> out = new ArrayList<>();
    for (String s : layers.split(",")) {
      if (!s.isBlank()) {
        out.add(s.strip());
      }
    }
    return out;
  }

  /**
   * The nodes to train by sensitivity: each quantized alone on a sample of the data, the ones that
   * cost the model output the most SQNR first.
   */
  private List<String> sensitive(OnnxModel fp32, Recipe recipe, DataSource train, PrintWriter err) {
    int n;
    try {
      n =
          layers.equals("sensitive")
              ? 2
              : Integer.parseInt(layers.substring("sensitive:".length()));
    } catch (NumberFormatException e) {
      n = -1;
    }
    if (n < 1) {
      throw new InvalidInputException(
          "--layers " + layers,
          "is not a node count",
          "give sensitive:N with N >= 1, e.g. sensitive:2");
    }
    DataSource sample = train.head(SENSITIVITY_SAMPLES);
    SensitivityReport r =
        SensitivityAnalysis.run(
            fp32,
            recipe,
            calibration != null ? DataSpec.parse(calibration).head(SENSITIVITY_SAMPLES) : sample,
            sample,
            new SensitivityAnalysis.Options(
                Integer.MAX_VALUE,
                null,
                0,
                SessionConfig.defaults().withThreads(threads),
                Progress.NONE));
    List<SensitivityReport.NodeSensitivity> ranked =
        r.nodes().stream()
            .sorted(Comparator.comparingDouble(SensitivityReport.NodeSensitivity::outputSqnrDb))
            .limit(n)
            .toList();
    err.printf(
        Locale.ROOT,
        "Layers      the %d most sensitive of %d: %s%n",
        ranked.size(),
        r.nodes().size(),
        ranked.stream()
            .map(x -> String.format(Locale.ROOT, "%s (%.1f dB alone)", x.node(), x.outputSqnrDb()))
            .collect(Collectors.joining(", ")));
    err.flush();
    return ranked.stream().map(SensitivityReport.NodeSensitivity::node).toList();
  }

  private static final int SENSITIVITY_SAMPLES = 256;

  /** The bar on a terminal; otherwise a line every 50 steps, so a log shows the loss going down. */
  private static Progress progress(PrintWriter err) {
    Progress bar = TerminalProgress.forTerminal(err, false);
    if (bar != Progress.NONE) {
      return bar;
    }
    return (stage, done, total) -> {
      if (stage.startsWith("fine-tuning")
          && (done % 50 == 0 || done == total || stage.contains("validation"))) {
        err.printf(Locale.ROOT, "step %d%s, %s%n", done, total > 0 ? " of " + total : "", stage);
        err.flush();
      }
    };
  }
}

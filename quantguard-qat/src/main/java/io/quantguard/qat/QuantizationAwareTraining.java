package io.quantguard.qat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.QuantizationProvenance;
import io.quantguard.quantize.ActivationRanges;
import io.quantguard.quantize.Calibration;
import io.quantguard.quantize.QdqPlan;
import io.quantguard.quantize.QuantizationResult;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.data.DataSource;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Quantization-aware training from the FP32 model to the quantized one: calibrates as the recipe
 * says, places fake quantizers from the static pass's {@link QdqPlan} with the calibrated
 * activation ranges frozen, fine-tunes (cross-entropy on labels, or distillation from the FP32
 * model), and quantizes the trained weights with the same plan and the same activation ranges, so
 * the exported model computes what the training computed. The settings go into the model's metadata
 * under {@link #METADATA_KEY}, next to the quantizer's own provenance.
 */
public final class QuantizationAwareTraining {
  /** The metadata_props key of the training settings (JSON). */
  public static final String METADATA_KEY = QuantizationProvenance.TRAINING;

  /**
   * What a run made: the quantized model and its report, the FP32 model with the trained weights,
   * the fake quantizers it trained with, and the training's figures.
   */
  public record Result(
      QuantizationResult quantized,
      OnnxModel trained,
      FakeQuantization quantization,
      FineTuning.Result training) {}

  private QuantizationAwareTraining() {}

  /** Starts a run on {@code fp32}, quantized as {@code recipe} says (its static part trained). */
  public static Builder builder(OnnxModel fp32, Recipe recipe) {
    return new Builder(fp32, recipe);
  }

  private static Result run(Builder b, DataSource data) {
    DataSource calibrationData = b.calibration != null ? b.calibration : data;
    Quantizer.Options options = new Quantizer.Options(b.options.session(), b.progress);
    OnnxModel fp32 = b.fp32;
    Recipe recipe = b.recipe;
    Calibration calibration = Quantizer.calibrate(fp32, recipe, calibrationData, options);
    QdqPlan plan = Quantizer.staticPlan(calibration, recipe);
    if (plan.smooths()) {
      // Train the graph the export quantizes: SmoothQuant's rewrite first (the same function,
      // other weights), then calibrate that graph for the fake quantizers.
      Quantizer.Smoothed smoothed = Quantizer.smoothed(calibration, recipe);
      fp32 = smoothed.model();
      recipe = smoothed.recipe();
      calibration = Quantizer.calibrate(fp32, recipe, calibrationData, options);
      plan = Quantizer.staticPlan(calibration, recipe);
    }
    if (plan.activations().isEmpty() && plan.weights().isEmpty()) {
      throw InvalidInputException.forParameter(
          "mode",
          recipe.mode(),
          "quantizes nothing statically, and quantization-aware training trains static quantizers",
          "use a static recipe");
    }
    FakeQuantization calibrated =
        FakeQuantization.of(plan, ActivationRanges.calibrated(calibration));
    FakeQuantization fq = b.learnRanges ? calibrated.learningRanges() : calibrated;
    String output = output(b);
    OnnxModel trained = fp32.copy();
    FineTuning.Result training;
    try (TrainableGraph teacher = b.distill ? TrainableGraph.builder(fp32).frozen().build() : null;
        TrainableGraph student =
            TrainableGraph.builder(fp32)
                .trainable(trainable(b, fp32))
                .fakeQuantization(fq)
                .build()) {
      FineTuning.Builder run =
          FineTuning.builder(student)
              .data(data)
              .output(output)
              .epochs(b.epochs)
              .batchSize(b.batchSize)
              .maxSteps(b.maxSteps)
              .learningRate(b.learningRate)
              .seed(b.seed)
              .optimizer(b.optimizer)
              .schedule(b.schedule, b.warmupSteps)
              .patience(b.patience)
              .progress(b.progress);
      if (b.validation != null) {
        run.validation(b.validation, b.validateEvery);
      }
      if (b.checkpoints != null) {
        run.checkpoints(b.checkpoints, b.checkpointEvery);
      }
      if (teacher != null) {
        run.distillFrom(teacher, b.distillation);
      }
      training = run.run();
      student.writeTo(trained);
      fq = Objects.requireNonNull(student.trainedQuantization());
    }
    Calibration types =
        Quantizer.calibrate(
            Quantizer.planCalibration(trained, recipe, calibrationData, options), null, options);
    QuantizationResult quantized = Quantizer.quantize(types, recipe, fq.ranges(), options);
    quantized.model().putMetadata(METADATA_KEY, settings(b, data, output, training));
    return new Result(quantized, trained, fq, training);
  }

  private static String output(Builder b) {
    if (b.output != null) {
      if (!b.fp32.graph().outputNames().contains(b.output)) {
        throw InvalidInputException.forParameter(
            "qat.output",
            b.output,
            "is not an output of the model",
            "name one of " + b.fp32.graph().outputNames());
      }
      return b.output;
    }
    Set<String> outputs = b.fp32.graph().outputNames();
    if (outputs.size() != 1) {
      throw InvalidInputException.forParameter(
          "qat.output",
          null,
          "is missing, and the model has " + outputs.size() + " outputs " + outputs,
          "name the output the loss reads (the logits)");
    }
    return outputs.iterator().next();
  }

  private static String describe(Distillation d) {
    String out =
        switch (d.loss()) {
          case KL -> "KL divergence to FP32";
          case MSE -> "squared error to FP32";
          case COSINE ->
              d.mask() == null
                  ? "cosine to FP32"
                  : "cosine to FP32 of the outputs mean-pooled over " + d.mask();
        };
    return d.intermediates().isEmpty() || d.intermediateWeight() == 0
        ? out
        : out
            + ", plus relative squared error of "
            + d.intermediates().size()
            + " intermediate tensors with weight "
            + d.intermediateWeight();
  }

  /** The float initializers the listed nodes of {@code fp32} read, or all of them. */
  private static Predicate<String> trainable(Builder b, OnnxModel fp32) {
    if (b.layers.isEmpty()) {
      return name -> true;
    }
    Set<String> params = new LinkedHashSet<>();
    for (String layer : b.layers) {
      Node n =
          fp32.graph()
              .node(layer)
              .orElseThrow(
                  () ->
                      InvalidInputException.forParameter(
                          "qat.layers",
                          layer,
                          "is not a node of the model",
                          "name nodes of the model, e.g. "
                              + fp32.graph().nodes().stream()
                                  .filter(
                                      x ->
                                          x.inputs().stream().anyMatch(fp32.graph()::isInitializer))
                                  .limit(4)
                                  .map(Node::name)
                                  .toList()));
      n.inputs().stream().filter(fp32.graph()::isInitializer).forEach(params::add);
    }
    return params::contains;
  }

  private static String settings(
      Builder b, DataSource data, String output, FineTuning.Result training) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("recipe_sha256", RecipeIO.sha256(b.recipe.resolved()));
    s.put("data", data.name());
    s.put(
        "loss",
        b.distill ? "distillation (" + describe(b.distillation) + ")" : "cross-entropy on labels");
    s.put("output", output);
    s.put("layers", b.layers.isEmpty() ? "all" : b.layers);
    s.put(
        "activation_ranges",
        b.learnRanges
            ? "calibrated, then learned step sizes (LSQ) with zero points frozen"
            : "calibrated, frozen during training");
    s.put("optimizer", b.optimizer.name().toLowerCase(Locale.ROOT));
    s.put("learning_rate", b.learningRate);
    s.put("schedule", b.schedule.name().toLowerCase(Locale.ROOT));
    s.put("warmup_steps", b.warmupSteps);
    s.put("epochs", b.epochs);
    s.put("batch_size", b.batchSize);
    s.put("seed", b.seed);
    s.put("steps", training.steps());
    s.put("first_loss", training.firstLoss());
    s.put("last_loss", training.lastLoss());
    if (b.validation != null) {
      s.put("validation", b.validation.name());
      s.put("validate_every", b.validateEvery);
      s.put("patience", b.patience);
      s.put("validation_loss", training.validationLoss());
      s.put("best_step", training.bestStep());
      s.put("stopped_early", training.stoppedEarly());
    }
    if (training.resumedFrom() > 0) {
      s.put("resumed_from_step", training.resumedFrom());
    }
    try {
      return new ObjectMapper().writeValueAsString(s);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The run's settings; {@link #run()} trains and exports. */
  public static final class Builder {
    private final OnnxModel fp32;
    private final Recipe recipe;
    private @Nullable DataSource data;
    private @Nullable DataSource calibration;
    private boolean distill;
    private Distillation distillation = Distillation.kl();
    private boolean learnRanges;
    private List<String> layers = List.of();
    private @Nullable String output;
    private int epochs = 1;
    private int batchSize = 64;
    private long maxSteps = -1;
    // FineTuning's default: one epoch of the CNN at W4A8 reached 0.9257 (1e-4: 0.9230)
    private float learningRate = 3e-5f;
    private long seed = 42;
    private Optimizer optimizer = Optimizer.ADAM;
    private LearningRateSchedule schedule = LearningRateSchedule.CONSTANT;
    private long warmupSteps;
    private @Nullable DataSource validation;
    private long validateEvery;
    private int patience;
    private @Nullable Path checkpoints;
    private long checkpointEvery;
    private Progress progress = Progress.NONE;
    private Quantizer.Options options = Quantizer.Options.defaults();

    private Builder(OnnxModel fp32, Recipe recipe) {
      this.fp32 = fp32;
      this.recipe = recipe;
    }

    /** The training data: inputs by the model's input names, with labels unless distilling. */
    public Builder data(DataSource data) {
      this.data = data;
      return this;
    }

    /** The data the activation ranges are calibrated on; the training data by default. */
    public Builder calibration(DataSource calibration) {
      this.calibration = calibration;
      return this;
    }

    /** Distil from the FP32 model instead of using labels: the data needs none. */
    public Builder distill(boolean distill) {
      this.distill = distill;
      return this;
    }

    /** Distil from the FP32 model with this loss (KL divergence of the logits by default). */
    public Builder distill(Distillation loss) {
      this.distill = true;
      this.distillation = loss;
      return this;
    }

    /**
     * Learns the activation step sizes with LSQ, starting from the calibrated ones, and exports the
     * learned ones; frozen calibrated ranges by default.
     */
    public Builder learnRanges(boolean learn) {
      this.learnRanges = learn;
      return this;
    }

    /** Trains only the parameters these nodes read; all by default (an empty list). */
    public Builder layers(List<String> nodes) {
      this.layers = List.copyOf(nodes);
      return this;
    }

    /** The output the loss reads (the logits); the model's only output by default. */
    public Builder output(String tensor) {
      this.output = tensor;
      return this;
    }

    public Builder epochs(int epochs) {
      this.epochs = epochs;
      return this;
    }

    public Builder batchSize(int batchSize) {
      this.batchSize = batchSize;
      return this;
    }

    /** Stops after this many steps in all; unlimited by default. */
    public Builder maxSteps(long steps) {
      this.maxSteps = steps;
      return this;
    }

    public Builder learningRate(float rate) {
      this.learningRate = rate;
      return this;
    }

    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Adam (the default) or SGD with momentum. */
    public Builder optimizer(Optimizer optimizer) {
      this.optimizer = optimizer;
      return this;
    }

    /** A linear warm-up over {@code warmupSteps}, then {@code schedule}; constant by default. */
    public Builder schedule(LearningRateSchedule schedule, long warmupSteps) {
      this.schedule = schedule;
      this.warmupSteps = warmupSteps;
      return this;
    }

    /**
     * Measures the training loss on held-out {@code data} every {@code everySteps} steps and
     * exports the values of the best measurement, not the last.
     */
    public Builder validation(DataSource data, long everySteps) {
      this.validation = data;
      this.validateEvery = everySteps;
      return this;
    }

    /** Stops after this many validations in a row without a better loss; 0 (default): never. */
    public Builder patience(int evaluations) {
      this.patience = evaluations;
      return this;
    }

    /**
     * Checkpoints into {@code dir} every {@code everySteps} steps; a rerun continues from there.
     */
    public Builder checkpoints(Path dir, long everySteps) {
      this.checkpoints = dir;
      this.checkpointEvery = everySteps;
      return this;
    }

    /** Where calibration and each training step report. */
    public Builder progress(Progress progress) {
      this.progress = progress;
      return this;
    }

    /** ONNX Runtime settings for calibration and the export's check. */
    public Builder options(Quantizer.Options options) {
      this.options = options;
      return this;
    }

    /** Calibrates, trains and exports; refuses settings that cannot work before it calibrates. */
    public Result run() {
      DataSource d = data;
      if (d == null) {
        throw InvalidInputException.forParameter(
            "qat.data", null, "is missing", "give training data");
      }
      FineTuning.requireValidationForPatience(patience, validation);
      return QuantizationAwareTraining.run(this, d);
    }
  }
}

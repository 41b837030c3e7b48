package io.quantguard.qat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Fine-tunes a {@link TrainableGraph}: cross-entropy on the data's labels, or distillation from a
 * frozen FP32 graph ({@link Distillation}: KL divergence of the logits by default) when the data
 * has none. Adam or SGD ({@link Optimizer}), a learning rate with warm-up and a {@link
 * LearningRateSchedule}, the loss on a validation set every so many steps with early stopping (the
 * best values are kept and restored), and checkpoints from which a killed run continues exactly.
 * The data is read in its own order and the engine is seeded, so a seed gives the same weights
 * every time, resumed or not.
 *
 * <p>Each step runs in an {@link NDScope}, so its arrays are freed when it ends; the update runs
 * after the scope closes, outside gradient recording, and zeroes the gradients (libtorch adds them
 * up otherwise).
 */
public final class FineTuning {
  /**
   * What a run did: steps taken, the mean loss over its first and last fifth (at most 100 steps
   * each), seconds; with validation, the best validation loss (NaN without) and its step, and
   * whether it stopped early; the step it resumed from (0 for a fresh run).
   */
  public record Result(
      long steps,
      double firstLoss,
      double lastLoss,
      double seconds,
      double validationLoss,
      long bestStep,
      boolean stoppedEarly,
      long resumedFrom) {}

  private final Builder b;
  private final DataSource data;
  private final @Nullable TrainableGraph teacher;
  private final Distillation distillation;
  private final OptimizerState optimizer;
  private final List<Double> losses = new ArrayList<>();
  // the best values when validating, by checkpoint key (p:NAME, s:ANCHOR)
  private final Map<String, NDArray> best = new LinkedHashMap<>();
  private double bestValidation = Double.POSITIVE_INFINITY;
  private long bestStep = -1;
  private int evaluationsSinceBest;

  private FineTuning(Builder b, DataSource data) {
    this.b = b;
    this.data = data;
    this.teacher = b.teacher;
    this.distillation = b.distillation;
    this.optimizer = new OptimizerState(b.optimizer, b.student.manager());
  }

  /** Starts a run that trains {@code student}'s parameters. */
  public static Builder builder(TrainableGraph student) {
    return new Builder(student);
  }

  private Result run() {
    TrainableGraph student = b.student;
    Engine engine = student.manager().getEngine();
    engine.setRandomSeed((int) b.seed);
    long start = System.nanoTime();
    long total = plannedSteps();
    if (b.schedule == LearningRateSchedule.COSINE && total < 0) {
      throw InvalidInputException.forParameter(
          "qat.schedule",
          "cosine",
          "decays to the last step, but " + data.name() + " does not say how many samples it holds",
          "set a step limit, or use the constant schedule");
    }
    Checkpoint.Position resumed = resume();
    long resumedFrom = resumed == null ? 0 : resumed.steps();
    int firstEpoch = resumed == null ? 0 : resumed.epoch();
    boolean stoppedEarly = false;
    training:
    for (int epoch = firstEpoch; epoch < b.epochs; epoch++) {
      try (BatchStream s = data.open(b.batchSize)) {
        long batches = 0;
        if (resumed != null && epoch == resumed.epoch()) {
          for (; batches < resumed.batchesInEpoch() && s.hasNext(); batches++) {
            s.next();
          }
        }
        while (s.hasNext() && (b.maxSteps < 0 || losses.size() < b.maxSteps)) {
          losses.add(finite(step(engine, s.next()), losses.size() + 1));
          batches++;
          int n = losses.size();
          optimizer.step(trained(), b.schedule.rate(b.learningRate, n, b.warmupSteps, total));
          String line = String.format(Locale.ROOT, "fine-tuning, loss %.4f", recentLoss());
          if (b.validation != null && n % b.validateEvery == 0) {
            line += validate(n);
          }
          b.progress.update(line, n, total);
          boolean last = !s.hasNext() && epoch == b.epochs - 1 || n == b.maxSteps;
          if (b.checkpoints != null && (n % b.checkpointEvery == 0 || last)) {
            checkpoint(epoch, batches);
          }
          if (b.patience > 0 && evaluationsSinceBest >= b.patience) {
            stoppedEarly = true;
            if (b.checkpoints != null) {
              checkpoint(epoch, batches);
            }
            break training;
          }
        }
      }
    }
    if (b.validation != null) {
      if (bestStep != losses.size() && !stoppedEarly) {
        validate(losses.size());
      }
      restoreBest();
    }
    int window = Math.max(1, Math.min(100, losses.size() / 5));
    return new Result(
        losses.size(),
        mean(losses.subList(0, Math.min(window, losses.size()))),
        mean(losses.subList(Math.max(0, losses.size() - window), losses.size())),
        (System.nanoTime() - start) / 1e9,
        b.validation == null ? Double.NaN : bestValidation,
        bestStep,
        stoppedEarly,
        resumedFrom);
  }

  private double recentLoss() {
    int n = losses.size();
    return mean(losses.subList(Math.max(0, n - 20), n));
  }

  /** Every array the optimizer updates: parameters by name, step sizes under their own names. */
  private Map<String, NDArray> trained() {
    Map<String, NDArray> all = new LinkedHashMap<>();
    b.student.parameters().forEach((k, v) -> all.put("p:" + k, v));
    b.student.stepSizes().forEach((k, v) -> all.put("s:" + k, v));
    return all;
  }

  /** The validation loss now; a new best is copied, and the progress line gets a suffix. */
  private String validate(long step) {
    DataSource v = java.util.Objects.requireNonNull(b.validation);
    double sum = 0;
    long count = 0;
    try (BatchStream s = v.open(b.batchSize)) {
      while (s.hasNext()) {
        Batch batch = s.next();
        try (NDScope scope = new NDScope();
            NDManager local = b.student.manager().newSubManager()) {
          scope.suppressNotUsedWarning();
          long n = batch.size();
          sum += loss(local, inputs(local, batch), batch).getFloat() * n;
          count += n;
        }
      }
    }
    double loss = sum / Math.max(1, count);
    if (loss < bestValidation) {
      bestValidation = loss;
      bestStep = step;
      evaluationsSinceBest = 0;
      best.values().forEach(NDArray::close);
      best.clear();
      trained().forEach((k, a) -> best.put(k, copy(a)));
    } else {
      evaluationsSinceBest++;
    }
    return String.format(
        Locale.ROOT, ", validation %.4f (best %.4f at step %d)", loss, bestValidation, bestStep);
  }

  private NDArray copy(NDArray a) {
    NDArray c = a.duplicate();
    c.attach(b.student.manager());
    return c;
  }

  /** Puts the best values back when the last ones are not the best. */
  private void restoreBest() {
    if (bestStep == losses.size() || best.isEmpty()) {
      return;
    }
    Map<String, NDArray> now = trained();
    best.forEach(
        (k, a) -> {
          NDArray target = now.get(k);
          if (target != null) {
            target.set(a.toByteBuffer());
          }
        });
  }

  private void checkpoint(int epoch, long batches) {
    Map<String, NDArray> arrays = new LinkedHashMap<>(trained());
    arrays.putAll(optimizer.moments());
    best.forEach((k, a) -> arrays.put("best:" + k, a));
    new Checkpoint(
            arrays,
            new Checkpoint.Position(
                losses.size(),
                epoch,
                batches,
                List.copyOf(losses),
                optimizer.updates(),
                bestValidation,
                bestStep,
                evaluationsSinceBest,
                settings()))
        .write(java.util.Objects.requireNonNull(b.checkpoints));
  }

  /** Takes the state of the checkpoint in the checkpoint folder, when there is one. */
  private Checkpoint.@Nullable Position resume() {
    if (b.checkpoints == null) {
      return null;
    }
    try (NDManager read = b.student.manager().newSubManager()) {
      Checkpoint c = Checkpoint.read(b.checkpoints, read);
      if (c == null) {
        return null;
      }
      Checkpoint.Position p = c.position();
      if (!p.settings().equals(settings())) {
        throw new InvalidInputException(
            b.checkpoints.resolve(Checkpoint.FILE).toString(),
            "was written by a run with other settings (" + p.settings() + ")",
            "resume with the same settings, or point the checkpoints at another folder");
      }
      Map<String, NDArray> now = trained();
      Map<String, NDArray> moments = new LinkedHashMap<>();
      c.arrays()
          .forEach(
              (k, a) -> {
                if (k.startsWith("best:")) {
                  best.put(k.substring(5), copy(a));
                } else if (k.startsWith("m:") || k.startsWith("v:")) {
                  moments.put(k, a);
                } else if (now.containsKey(k)) {
                  java.util.Objects.requireNonNull(now.get(k)).set(a.toByteBuffer());
                }
              });
      optimizer.restore(moments, p.updates());
      losses.addAll(p.losses());
      bestValidation = p.bestValidation();
      bestStep = p.bestStep();
      evaluationsSinceBest = p.evaluationsSinceBest();
      b.progress.update(
          String.format(Locale.ROOT, "resumed at step %d, loss %.4f", p.steps(), recentLoss()),
          p.steps(),
          plannedSteps());
      return p;
    }
  }

  /** What must match for a checkpoint to continue this run. */
  private String settings() {
    return String.format(
        Locale.ROOT,
        "data=%s batch=%d epochs=%d max_steps=%d optimizer=%s lr=%s schedule=%s warmup=%d seed=%d"
            + " loss=%s",
        data.name(),
        b.batchSize,
        b.epochs,
        b.maxSteps,
        b.optimizer,
        b.learningRate,
        b.schedule,
        b.warmupSteps,
        b.seed,
        teacher == null ? "labels" : distillation);
  }

  /** Steps the run will take, or -1 when the data does not say how many samples it holds. */
  private long plannedSteps() {
    if (data.size().isEmpty()) {
      return b.maxSteps;
    }
    long perEpoch = (data.size().getAsLong() + b.batchSize - 1) / b.batchSize;
    long all = perEpoch * b.epochs;
    return b.maxSteps < 0 ? all : Math.min(all, b.maxSteps);
  }

  private static double mean(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
  }

  private static Map<String, NDArray> inputs(NDManager local, Batch batch) {
    Map<String, NDArray> in = new HashMap<>();
    for (Map.Entry<String, Tensor> e : batch.inputs().entrySet()) {
      in.put(e.getKey(), Values.toArray(local, e.getValue()));
    }
    return in;
  }

  /**
   * The loss, or an error once it is NaN or infinite: every later step would only spread it through
   * the weights, and the export would then fail on ranges it cannot quantize.
   */
  private double finite(double loss, int step) {
    if (Double.isFinite(loss)) {
      return loss;
    }
    if (step == 1) {
      throw new InvalidInputException(
          "training data",
          "gives a loss of " + loss + " on its first batch, before any update",
          "check the data and the model for NaN or infinite values");
    }
    throw InvalidInputException.forParameter(
        "learning rate",
        b.learningRate,
        "made the loss " + loss + " at step " + step + " (it was finite before)",
        "train with a lower learning rate, or with warm-up steps");
  }

  private double step(Engine engine, Batch batch) {
    try (NDScope scope = new NDScope();
        NDManager local = b.student.manager().newSubManager()) {
      scope.suppressNotUsedWarning();
      Map<String, NDArray> in = inputs(local, batch);
      try (GradientCollector gc = engine.newGradientCollector()) {
        NDArray loss = loss(local, in, batch);
        gc.backward(loss);
        return loss.getFloat();
      }
    }
  }

  private NDArray loss(NDManager local, Map<String, NDArray> in, Batch batch) {
    TrainableGraph fp32 = teacher;
    if (fp32 == null) {
      return crossEntropy(local, b.student.forward(in, b.output), batch);
    }
    Set<String> wanted = new LinkedHashSet<>(distillation.tensors(b.output));
    return distillation.apply(
        b.student.forward(in, wanted), fp32.forward(in, wanted), in, b.output);
  }

  private NDArray crossEntropy(NDManager local, NDArray logits, Batch batch) {
    long[] labels = batch.labels();
    if (labels == null) {
      throw new InvalidInputException(
          data.name(),
          "has no labels for cross-entropy",
          "give labelled data, or distil from the FP32 model");
    }
    NDArray target = local.create(labels).expandDims(1);
    return logits.logSoftmax(1).gather(target, 1).neg().mean();
  }

  /** The run's settings; {@link #run()} trains. */
  public static final class Builder {
    private final TrainableGraph student;
    private @Nullable TrainableGraph teacher;
    private Distillation distillation = Distillation.kl();
    private @Nullable DataSource data;
    private String output = "";
    private int epochs = 1;
    private int batchSize = 64;
    private long maxSteps = -1;
    // 3e-5: one epoch of the CNN at W4A8 reached 0.9257 (1e-4: 0.9230), CnnW4A8Measurement
    private float learningRate = 3e-5f;
    private long seed = 42;
    private Progress progress = Progress.NONE;
    private Optimizer optimizer = Optimizer.ADAM;
    private LearningRateSchedule schedule = LearningRateSchedule.CONSTANT;
    private long warmupSteps;
    private @Nullable DataSource validation;
    private long validateEvery = 100;
    private int patience;
    private @Nullable Path checkpoints;
    private long checkpointEvery = 100;

    private Builder(TrainableGraph student) {
      this.student = student;
    }

    /** The training data: inputs by the graph's input names, labels unless distilling. */
    public Builder data(DataSource data) {
      this.data = data;
      return this;
    }

    /** The output the loss reads: logits of shape [batch, ..., classes]. */
    public Builder output(String tensor) {
      this.output = tensor;
      return this;
    }

    /**
     * Distil from {@code fp32} (a frozen graph) instead of using labels, by the KL divergence of
     * the output softmax.
     */
    public Builder distillFrom(TrainableGraph fp32) {
      return distillFrom(fp32, Distillation.kl());
    }

    /** Distil from {@code fp32} (a frozen graph) with the given loss instead of using labels. */
    public Builder distillFrom(TrainableGraph fp32, Distillation loss) {
      this.teacher = fp32;
      this.distillation = loss;
      return this;
    }

    public Builder epochs(int epochs) {
      if (epochs < 1) {
        throw InvalidInputException.forParameter("qat.epochs", epochs, "must be at least 1", null);
      }
      this.epochs = epochs;
      return this;
    }

    public Builder batchSize(int batchSize) {
      if (batchSize < 1) {
        throw InvalidInputException.forParameter(
            "qat.batchSize", batchSize, "must be at least 1", null);
      }
      this.batchSize = batchSize;
      return this;
    }

    /** Stops after this many steps in all (for short runs); unlimited by default. */
    public Builder maxSteps(long steps) {
      this.maxSteps = steps;
      return this;
    }

    public Builder learningRate(float rate) {
      if (!(rate > 0)) {
        throw InvalidInputException.forParameter(
            "qat.learningRate", rate, "must be positive", "3e-5 suits a fine-tune with Adam");
      }
      this.learningRate = rate;
      return this;
    }

    /** Where each step reports its number and the loss over the last 20 steps. */
    public Builder progress(Progress progress) {
      this.progress = progress;
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

    /**
     * The learning rate rises linearly over {@code warmupSteps} steps, then follows {@code
     * schedule} (constant by default).
     */
    public Builder schedule(LearningRateSchedule schedule, long warmupSteps) {
      if (warmupSteps < 0) {
        throw InvalidInputException.forParameter(
            "qat.warmupSteps", warmupSteps, "must be 0 or more", null);
      }
      this.schedule = schedule;
      this.warmupSteps = warmupSteps;
      return this;
    }

    /**
     * Measures the loss on {@code data} every {@code everySteps} steps and at the end; the run ends
     * with the values of the best measurement.
     */
    public Builder validation(DataSource data, long everySteps) {
      if (everySteps < 1) {
        throw InvalidInputException.forParameter(
            "qat.validateEvery", everySteps, "must be at least 1", null);
      }
      this.validation = data;
      this.validateEvery = everySteps;
      return this;
    }

    /** Stops when {@code evaluations} validations in a row bring no better loss (0: never). */
    public Builder patience(int evaluations) {
      if (evaluations < 0) {
        throw InvalidInputException.forParameter(
            "qat.patience", evaluations, "must be 0 or more", null);
      }
      this.patience = evaluations;
      return this;
    }

    /**
     * Writes a checkpoint into {@code dir} every {@code everySteps} steps and at the end, and
     * continues from the one there when the run starts.
     */
    public Builder checkpoints(Path dir, long everySteps) {
      if (everySteps < 1) {
        throw InvalidInputException.forParameter(
            "qat.checkpointEvery", everySteps, "must be at least 1", null);
      }
      this.checkpoints = dir;
      this.checkpointEvery = everySteps;
      return this;
    }

    /** Trains, and leaves the trained values in the student's parameters. */
    public Result run() {
      DataSource d = data;
      if (d == null) {
        throw InvalidInputException.forParameter(
            "qat.data", null, "is missing", "give training data");
      }
      if (output.isEmpty()) {
        throw InvalidInputException.forParameter(
            "qat.output", null, "is missing", "name the graph output the loss reads (the logits)");
      }
      requireValidationForPatience(patience, validation);
      return new FineTuning(this, d).run();
    }
  }

  /**
   * Refuses patience without validation data to measure it on; {@link QuantizationAwareTraining}
   * asks before it calibrates, so the mistake costs no calibration.
   */
  static void requireValidationForPatience(int patience, @Nullable DataSource validation) {
    if (patience > 0 && validation == null) {
      throw InvalidInputException.forParameter(
          "qat.patience", patience, "needs validation data to stop on", "give validation data");
    }
  }
}

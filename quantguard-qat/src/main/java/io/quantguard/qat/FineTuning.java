package io.quantguard.qat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Fine-tunes a {@link TrainableGraph} with Adam: cross-entropy on the data's labels, or
 * distillation from a frozen FP32 graph ({@link Distillation}: KL divergence of the logits by
 * default) when the data has none. The data is read in its own order and the engine is seeded, so a
 * seed gives the same weights every time.
 *
 * <p>Each step runs in an {@link NDScope}, so its arrays are freed when it ends; the optimizer
 * updates the parameters after the scope closes, so that its moment estimates, made on the first
 * step, outlive it. Gradients are zeroed after every update (libtorch adds them up otherwise).
 */
public final class FineTuning {
  /**
   * What a run did: steps taken, the mean loss over its first and last fifth (at most 100 steps
   * each), seconds.
   */
  public record Result(long steps, double firstLoss, double lastLoss, double seconds) {}

  private final Builder b;
  private final DataSource data;
  private final @Nullable TrainableGraph teacher;
  private final Distillation distillation;

  private FineTuning(Builder b, DataSource data) {
    this.b = b;
    this.data = data;
    this.teacher = b.teacher;
    this.distillation = b.distillation;
  }

  /** Starts a run that trains {@code student}'s parameters. */
  public static Builder builder(TrainableGraph student) {
    return new Builder(student);
  }

  private Result run() {
    TrainableGraph student = b.student;
    Engine engine = student.manager().getEngine();
    engine.setRandomSeed((int) b.seed);
    Optimizer adam = Optimizer.adam().optLearningRateTracker(Tracker.fixed(b.learningRate)).build();
    long start = System.nanoTime();
    List<Double> losses = new ArrayList<>();
    long total = plannedSteps();
    for (int epoch = 0; epoch < b.epochs; epoch++) {
      try (BatchStream s = data.open(b.batchSize)) {
        while (s.hasNext() && (b.maxSteps < 0 || losses.size() < b.maxSteps)) {
          losses.add(step(engine, s.next()));
          update(adam);
          int n = losses.size();
          b.progress.update(
              String.format(
                  Locale.ROOT,
                  "fine-tuning, loss %.4f",
                  mean(losses.subList(Math.max(0, n - 20), n))),
              n,
              total);
        }
      }
    }
    int window = Math.max(1, Math.min(100, losses.size() / 5));
    return new Result(
        losses.size(),
        mean(losses.subList(0, Math.min(window, losses.size()))),
        mean(losses.subList(Math.max(0, losses.size() - window), losses.size())),
        (System.nanoTime() - start) / 1e9);
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

  private double step(Engine engine, Batch batch) {
    try (NDScope scope = new NDScope();
        NDManager local = b.student.manager().newSubManager()) {
      scope.suppressNotUsedWarning();
      Map<String, NDArray> in = new HashMap<>();
      for (Map.Entry<String, Tensor> e : batch.inputs().entrySet()) {
        in.put(e.getKey(), Values.toArray(local, e.getValue()));
      }
      try (GradientCollector gc = engine.newGradientCollector()) {
        TrainableGraph fp32 = teacher;
        NDArray loss;
        if (fp32 == null) {
          loss = crossEntropy(local, b.student.forward(in, b.output), batch);
        } else {
          Set<String> wanted = new LinkedHashSet<>(distillation.tensors(b.output));
          loss =
              distillation.apply(
                  b.student.forward(in, wanted), fp32.forward(in, wanted), in, b.output);
        }
        gc.backward(loss);
        return loss.getFloat();
      }
    }
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

  private void update(Optimizer optimizer) {
    for (Map.Entry<String, NDArray> p : b.student.parameters().entrySet()) {
      update(optimizer, p.getKey(), p.getValue());
    }
    for (Map.Entry<String, NDArray> p : b.student.stepSizes().entrySet()) {
      // a key no initializer has: the optimizer keeps its moments by name
      update(optimizer, "step size of " + p.getKey(), p.getValue());
    }
  }

  private static void update(Optimizer optimizer, String name, NDArray value) {
    try (NDArray grad = value.getGradient()) {
      optimizer.update(name, value, grad);
      grad.subi(grad);
    }
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
      return new FineTuning(this, d).run();
    }
  }
}

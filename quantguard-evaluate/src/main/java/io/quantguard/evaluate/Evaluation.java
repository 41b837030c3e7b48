package io.quantguard.evaluate;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.report.CalibrationCoverage;
import io.quantguard.report.EvaluationReport;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.DataSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A paired evaluation: the baseline and every candidate run on exactly the same batches, in one
 * pass over the data (each batch is fed to every model in turn, so a sample's predictions are
 * compared while it is in memory and nothing is read twice). Models run one after another, each
 * session with the configured threads (by default every core), so two sessions never compete for
 * the CPU. Every metric is reported per model, per slice and as the paired difference to the
 * baseline, with bootstrap intervals; cost (latency, throughput, CPU, energy, memory, size) and
 * data hygiene come from the same run.
 *
 * <pre>{@code
 * EvaluationReport r = Evaluation.builder()
 *     .baseline("fp32", Path.of("model.onnx"))
 *     .candidate("int8", Path.of("model.int8.onnx"))
 *     .task(Tasks.parse("classification"))
 *     .data("test", DataSpec.parse("idx:t10k-images-idx3-ubyte.gz"))
 *     .sliceBy(Slicer.parse("label"))
 *     .build()
 *     .run();
 * }</pre>
 */
public final class Evaluation {
  /** A model under evaluation: a unique display name and its ONNX file. */
  public record Model(String name, Path file) {}

  /** A named data set; the name is its slice ({@code data=name}) and what tasks refer to. */
  public record Data(String name, DataSource source) {}

  final List<Model> models;
  final Task<?> task;
  final String taskSpec;
  final List<Data> data;
  final List<Slicer> slicers;
  final @Nullable DataSource calibration;
  final @Nullable Path calibrationRanges;
  final int batchSize;
  final SessionConfig session;
  final Bootstrap bootstrap;
  final double wattsPerCore;
  final Progress progress;

  private Evaluation(Builder b, Task<?> task, String taskSpec) {
    this.models = List.copyOf(b.models);
    this.task = task;
    this.taskSpec = taskSpec;
    this.data = List.copyOf(b.data);
    this.slicers = List.copyOf(b.slicers);
    this.calibration = b.calibration;
    this.calibrationRanges = b.calibrationRanges;
    this.batchSize = b.batchSize;
    this.session = b.session;
    this.bootstrap = b.bootstrap;
    this.wattsPerCore = b.wattsPerCore;
    this.progress = b.progress;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Runs the evaluation; throws {@link InvalidInputException} for unusable models or data. */
  public EvaluationReport run() {
    return run(task);
  }

  private <P> EvaluationReport run(Task<P> t) {
    return new PairedRun<>(this, t).run();
  }

  /** Collects the parts of an evaluation; {@link #build} checks they fit together. */
  public static final class Builder {
    private final List<Model> models = new ArrayList<>();
    private boolean hasBaseline;
    private @Nullable Task<?> task;
    private @Nullable String taskSpec;
    private final List<Data> data = new ArrayList<>();
    private final List<Slicer> slicers = new ArrayList<>();
    private @Nullable DataSource calibration;
    private @Nullable Path calibrationRanges;
    private int batchSize = 64;
    private SessionConfig session = SessionConfig.defaults();
    private Bootstrap bootstrap = Bootstrap.defaults();
    private double wattsPerCore = 10;
    private Progress progress = Progress.NONE;

    private Builder() {}

    public Builder baseline(String name, Path file) {
      if (hasBaseline) {
        throw InvalidInputException.forParameter(
            "evaluation.baseline", null, "is given twice", "give one baseline");
      }
      hasBaseline = true;
      models.add(0, new Model(unique(name), file));
      return this;
    }

    public Builder candidate(String name, Path file) {
      models.add(new Model(unique(name), file));
      return this;
    }

    private String unique(String name) {
      Set<String> taken = new LinkedHashSet<>();
      models.forEach(m -> taken.add(m.name()));
      String n = name;
      for (int i = 2; taken.contains(n); i++) {
        n = name + "#" + i;
      }
      return n;
    }

    /** The task; {@code spec} is how the user wrote it (recorded in the report). */
    public Builder task(Task<?> task, String spec) {
      this.task = Objects.requireNonNull(task);
      this.taskSpec = spec;
      return this;
    }

    public Builder task(Task<?> task) {
      return task(task, task.name());
    }

    public Builder data(String name, DataSource source) {
      if (data.stream().anyMatch(d -> d.name().equals(name))) {
        throw InvalidInputException.forParameter(
            "evaluation.data", name, "names a data set twice", "give each data set its own name");
      }
      data.add(new Data(name, source));
      return this;
    }

    public Builder sliceBy(Slicer slicer) {
      if (!slicers.contains(slicer)) {
        slicers.add(slicer);
      }
      return this;
    }

    /** Calibration data, read only to count test inputs that also occur in it. */
    public Builder calibration(DataSource source) {
      this.calibration = source;
      return this;
    }

    /**
     * A statically quantized (QDQ) model whose calibrated activation ranges to check the data
     * against: the baseline also runs with those tensors exposed (untimed), and the report gets the
     * share of FP32 activations outside the ranges per slice and tensor, and the samples that clip
     * most ({@link CalibrationCoverage}).
     */
    public Builder calibrationRanges(Path quantizedModel) {
      this.calibrationRanges = Objects.requireNonNull(quantizedModel);
      return this;
    }

    public Builder batchSize(int n) {
      if (n <= 0) {
        throw InvalidInputException.forParameter(
            "evaluation.batchSize", n, "is not positive", "use e.g. 64");
      }
      this.batchSize = n;
      return this;
    }

    public Builder session(SessionConfig config) {
      this.session = Objects.requireNonNull(config);
      return this;
    }

    public Builder bootstrap(Bootstrap b) {
      this.bootstrap = Objects.requireNonNull(b);
      return this;
    }

    /** Declared power of one busy core, for the energy estimate where RAPL is unreadable. */
    public Builder wattsPerCore(double watts) {
      if (!(watts > 0)) {
        throw InvalidInputException.forParameter(
            "evaluation.wattsPerCore", watts, "is not a positive power", "use e.g. 10");
      }
      this.wattsPerCore = watts;
      return this;
    }

    /** Where the pass over the data reports samples done, per data set (the stage). */
    public Builder progress(Progress p) {
      this.progress = Objects.requireNonNull(p);
      return this;
    }

    public Evaluation build() {
      if (!hasBaseline) {
        throw InvalidInputException.forParameter(
            "evaluation.baseline", null, "is missing", "name the FP32 model");
      }
      if (models.size() < 2) {
        throw InvalidInputException.forParameter(
            "evaluation.candidate",
            null,
            "is missing",
            "name at least one model to compare with the baseline");
      }
      Task<?> t = task;
      if (t == null) {
        throw InvalidInputException.forParameter(
            "evaluation.task",
            null,
            "is missing",
            "name a task: " + String.join(", ", Tasks.available().keySet()));
      }
      if (data.isEmpty()) {
        throw InvalidInputException.forParameter(
            "evaluation.data", null, "is missing", "give at least one data spec");
      }
      for (String needed : t.requiredData()) {
        if (data.stream().noneMatch(d -> d.name().equals(needed))) {
          throw InvalidInputException.forParameter(
              "evaluation.data",
              null,
              "the " + t.name() + " task needs data sets named " + t.requiredData(),
              "give each a data set of that name, e.g. " + needed + "=text:...");
        }
      }
      return new Evaluation(this, t, taskSpec != null ? taskSpec : t.name());
    }
  }
}

package io.quantguard.spark;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.PairedAccumulator;
import io.quantguard.evaluate.Slicer;
import io.quantguard.evaluate.Task;
import io.quantguard.evaluate.Tasks;
import io.quantguard.evaluate.drift.CalibrationRanges;
import io.quantguard.evaluate.drift.OverflowProbe;
import io.quantguard.onnx.ModelIO;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.Sha256;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import java.io.Serializable;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.jspecify.annotations.Nullable;
import scala.Tuple2;

/**
 * A paired evaluation of a baseline and candidates on a Spark {@code Dataset<Row>}, with the report
 * of {@code quantguard evaluate} ({@code quantguard.evaluate/1}: {@code gate}, {@code registry
 * register --report} and {@code audit} take it as it is). Each row gets its global index (the data
 * set's order, or an index column); each partition runs every model on the same rows in the same
 * task (one ONNX Runtime session per executor JVM and model, reused by every task) in batches that
 * start at multiples of the batch size by global index, as a local pass makes them, and fills a
 * {@link PairedAccumulator}; the accumulators merge with {@code treeReduce} in any order and the
 * driver writes the report.
 *
 * <p>The bootstrap is Poisson resampling keyed by row index ({@link Bootstrap.Resampling#POISSON}):
 * the report is the same, bit for bit, for any partitioning. Its point estimates are those of
 * {@code quantguard evaluate} on the same rows; its intervals agree with that command's multinomial
 * bootstrap within the bootstrap's own sampling error, not to the digit. For classification and
 * embeddings each replicate's counts are summed on the executors, so what travels to the driver
 * does not grow with the rows (about 14.7 MB for 1,000 replicates and 11 slices of 10 classes; for
 * embeddings at most 6.7 kB per replicate and slice). With {@code calibrationRanges} the report has
 * the calibration coverage of {@code evaluate --calibration-ranges}.
 *
 * <pre>{@code
 * EvaluationReport r = SparkEvaluation.builder()
 *     .baseline("fp32", Path.of("cnn.onnx"))
 *     .candidate("int8", Path.of("cnn.int8.onnx"))
 *     .task("classification")
 *     .data(spark.read().parquet("s3a://bucket/test/"))
 *     .input("image", "pixels", 1, 28, 28)
 *     .label("label")
 *     .slice("label")
 *     .build()
 *     .run();
 * }</pre>
 */
public final class SparkEvaluation {
  /** A model under evaluation: its display name, its file (read on the driver) and its id. */
  private record Model(String name, Path file, byte[] bytes, String id) implements Serializable {
    private static final long serialVersionUID = 1L;
  }

  /** What every task of the job needs. */
  private record Job(
      String taskSpec,
      List<String> modelIds,
      List<TensorColumn> columns,
      @Nullable TextColumn text,
      @Nullable String labelColumn,
      List<String> attributeColumns,
      List<Slicer> slicers,
      String dataName,
      int batchSize,
      SessionConfig session,
      Bootstrap bootstrap,
      @Nullable CalibrationRanges coverage)
      implements Serializable {
    private static final long serialVersionUID = 1L;
  }

  /** Attributes every tokenized text has, to slice by. */
  private static final List<String> TEXT_ATTRIBUTES = List.of("tokens", "truncated");

  private final List<Model> models;
  private final String taskSpec;
  private final Task<?> task;
  private final Dataset<Row> data;
  private final String dataName;
  private final List<TensorColumn> columns;
  private final @Nullable TextColumn text;
  private final @Nullable String labelColumn;
  private final List<Slicer> slicers;
  private final @Nullable String indexColumn;
  private final int partitions;
  private final int batchSize;
  private final Bootstrap bootstrap;
  private final SessionConfig session;
  private final double wattsPerCore;
  private final @Nullable Path rangesModel;
  private final OverflowProbe.@Nullable Matched ranges;

  private SparkEvaluation(Builder b) {
    if (b.baseline == null) {
      throw new IllegalArgumentException("SparkEvaluation.baseline: name the FP32 model");
    }
    if (b.candidates.isEmpty()) {
      throw new IllegalArgumentException(
          "SparkEvaluation.candidate: name at least one model to compare with the baseline");
    }
    if (b.taskSpec == null) {
      throw new IllegalArgumentException(
          "SparkEvaluation.task: name a task, e.g. classification or embedding");
    }
    this.data = Objects.requireNonNull(b.data, "SparkEvaluation.data: give the rows to evaluate");
    if (b.columns.isEmpty() && b.text == null) {
      throw new IllegalArgumentException(
          "SparkEvaluation.input: name at least one model input and the column that holds it, or"
              + " a text column to tokenize (SparkEvaluation.text)");
    }
    List<Model> all = new ArrayList<>();
    Set<String> names = new LinkedHashSet<>();
    for (Map.Entry<String, Path> m : b.modelFiles()) {
      String name = m.getKey();
      for (int i = 2; names.contains(name); i++) {
        name = m.getKey() + "#" + i;
      }
      names.add(name);
      all.add(read(name, m.getValue()));
    }
    this.models = List.copyOf(all);
    this.taskSpec = b.taskSpec;
    this.task = Tasks.parse(b.taskSpec);
    if (!(task.newMetrics() instanceof Serializable)) {
      throw new IllegalArgumentException(
          "SparkEvaluation.task: the "
              + task.name()
              + " task does not run on Spark yet (its metrics are not serializable); use"
              + " classification or embedding, or evaluate it with quantguard evaluate");
    }
    if (!task.sliceable() && !b.slicers.isEmpty()) {
      throw new IllegalArgumentException(
          "SparkEvaluation.slice: the " + task.name() + " task scores the whole data set at once");
    }
    this.dataName = b.dataName;
    this.columns = List.copyOf(b.columns);
    this.text = b.text;
    this.labelColumn = b.labelColumn;
    this.slicers = List.copyOf(b.slicers);
    this.indexColumn = b.indexColumn;
    this.partitions = b.partitions;
    this.batchSize = b.batchSize;
    this.bootstrap = b.bootstrap.with(Bootstrap.Resampling.POISSON);
    this.session = b.session;
    this.wattsPerCore = b.wattsPerCore;
    this.rangesModel = b.rangesModel;
    this.ranges = b.rangesModel == null ? null : ranges(b.rangesModel, models.get(0));
  }

  /** The calibrated ranges of a QDQ model that the baseline has (what coverage measures). */
  private static OverflowProbe.Matched ranges(Path quantized, Model baseline) {
    try {
      return OverflowProbe.match(
          ModelIO.load(baseline.bytes(), baseline.name()),
          CalibrationRanges.of(ModelIO.load(quantized)));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "SparkEvaluation.calibrationRanges: "
              + quantized
              + " cannot be read as a quantized model: "
              + e.getMessage(),
          e);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  private static Model read(String name, Path file) {
    try {
      // The model as one file (external data inlined), so executors need nothing but the bytes.
      byte[] bytes = ModelIO.toBytes(ModelIO.load(file));
      String id = HexFormat.of().formatHex(Sha256.digest().digest(bytes));
      return new Model(name, file, bytes, id);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "model '" + name + "' (" + file + ") cannot be read: " + e.getMessage(), e);
    }
  }

  /** Runs the job and writes the report (nothing is written to disk). */
  public EvaluationReport run() {
    return run(task);
  }

  private <P> EvaluationReport run(Task<P> t) {
    return report(t, accumulate(t));
  }

  /** The report of the merged state, with the data's hygiene counted by Spark. */
  <P> EvaluationReport report(Task<P> t, PairedAccumulator<P> merged) {
    if (merged.samples() == 0) {
      throw new IllegalArgumentException("the evaluation data set holds no rows");
    }
    List<PairedAccumulator.Model> described = new ArrayList<>();
    for (Model m : models) {
      described.add(PairedAccumulator.Model.of(m.name(), m.file(), 0));
    }
    EvaluationReport.Hygiene hygiene = hygiene(merged.samples());
    return merged.report(
        t,
        new PairedAccumulator.Facts(
            taskSpec,
            List.of(
                new EvaluationReport.DataInfo(
                    dataName,
                    "spark:" + data.sparkSession().sparkContext().appName(),
                    merged.samples())),
            new EvaluationReport.Settings(
                batchSize,
                bootstrap.resamples(),
                bootstrap.confidence(),
                bootstrap.seed(),
                session + " per executor session",
                slicers.stream().map(Slicer::spec).toList(),
                wattsPerCore,
                "poisson"),
            described,
            false,
            hygiene,
            null,
            ranges == null || rangesModel == null
                ? null
                : merged.coverage(rangesModel.toString(), ranges),
            List.of()));
  }

  /** The merged state of every partition. */
  <P> PairedAccumulator<P> accumulate(Task<P> t) {
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(data.sparkSession().sparkContext());
    List<Broadcast<byte[]>> bytes = new ArrayList<>();
    for (Model m : models) {
      bytes.add(sc.broadcast(m.bytes()));
    }
    List<String> attributeColumns = new ArrayList<>();
    List<String> dataColumns = List.of(data.columns());
    for (Slicer s : slicers) {
      if (s instanceof Slicer.ByAttribute a) {
        if (dataColumns.contains(a.attribute())) {
          attributeColumns.add(a.attribute());
        } else if (text == null || !TEXT_ATTRIBUTES.contains(a.attribute())) {
          throw new IllegalArgumentException(
              "SparkEvaluation.slice: '"
                  + a.attribute()
                  + "' is not a column of the data set "
                  + dataColumns
                  + (text == null ? "" : " nor an attribute of its text " + TEXT_ATTRIBUTES)
                  + "; slice by one of those");
        }
      }
    }
    Job job =
        new Job(
            taskSpec,
            models.stream().map(Model::id).toList(),
            columns,
            text,
            labelColumn,
            attributeColumns,
            slicers,
            dataName,
            batchSize,
            session,
            bootstrap,
            ranges == null ? null : ranges.ranges());
    JavaRDD<PairedAccumulator<P>> parts =
        IndexedRows.regroup(
                data,
                indexColumn,
                partitions > 0 ? partitions : data.rdd().getNumPartitions(),
                batchSize,
                Long.MAX_VALUE)
            .mapPartitions(
                rows -> List.of(SparkEvaluation.<P>accumulate(rows, job, bytes)).iterator());
    return parts.treeReduce(
        (a, b) -> {
          a.merge(b);
          return a;
        });
  }

  /** One partition: every batch through every model, then into the partition's accumulator. */
  @SuppressWarnings("unchecked")
  private static <P> PairedAccumulator<P> accumulate(
      Iterator<Tuple2<Long, Row>> rows, Job job, List<Broadcast<byte[]>> bytes) {
    Task<P> task = (Task<P>) Tasks.parse(job.taskSpec());
    int n = job.modelIds().size();
    PairedAccumulator<P> acc = new PairedAccumulator<>(job.slicers(), n, job.bootstrap());
    List<ExecutorSessions.Leased<List<String>>> sessions = new ArrayList<>();
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    HuggingFaceTokenizer tokenizer = job.text() == null ? null : job.text().open();
    ExecutorSessions.Leased<OverflowProbe> probe = null;
    try {
      for (int m = 0; m < n; m++) {
        Broadcast<byte[]> b = bytes.get(m);
        String name = "model " + m;
        sessions.add(
            ExecutorSessions.lease(
                job.modelIds().get(m) + "/" + job.session(),
                () -> {
                  InferenceSession s =
                      InferenceSession.open(ModelIO.load(b.value(), name), job.session());
                  return new ExecutorSessions.Opened<>(task.outputs(name, s.outputNames()), s);
                }));
      }
      CalibrationRanges coverage = job.coverage();
      if (coverage != null) {
        probe = probe(job.modelIds().get(0), bytes.get(0), coverage, job.session());
      }
      boolean[] warmed = new boolean[n];
      RowBatches batches =
          new RowBatches(
              rows,
              job.columns(),
              job.text(),
              tokenizer,
              job.batchSize(),
              job.labelColumn(),
              job.attributeColumns());
      while (batches.hasNext()) {
        Batch b = batches.next();
        List<P> predictions = new ArrayList<>();
        for (int m = 0; m < n; m++) {
          ExecutorSessions.Leased<List<String>> s = sessions.get(m);
          Map<String, Tensor> feed = s.session().session().bind(b.inputs());
          if (s.firstUse() && !warmed[m]) {
            s.session().run(feed, s.value()); // untimed: first-run initialization
            warmed[m] = true;
          }
          long cpu0 = threads.getCurrentThreadCpuTime();
          long t0 = System.nanoTime();
          Map<String, Tensor> out = s.session().run(feed, s.value());
          long elapsed = System.nanoTime() - t0;
          long cpu = threads.getCurrentThreadCpuTime() - cpu0;
          acc.recordRun(m, b.size(), elapsed, cpu, 0);
          predictions.add(task.predict(b, out));
        }
        Map<String, int[]> slices = acc.add(task, job.dataName(), b, predictions, b.offset());
        if (probe != null && coverage != null) {
          acc.addClipping(coverage, job.dataName(), b, probe.value().count(b.inputs()), slices);
        }
      }
    } finally {
      sessions.forEach(ExecutorSessions.Leased::close);
      if (probe != null) {
        probe.close();
      }
      if (tokenizer != null) {
        tokenizer.close();
      }
    }
    return acc;
  }

  /**
   * The baseline with the calibrated tensors as outputs, as {@code evaluate} runs it for coverage
   * (untimed): one session per executor JVM, reused by every task.
   */
  private static ExecutorSessions.Leased<OverflowProbe> probe(
      String baselineId, Broadcast<byte[]> baseline, CalibrationRanges ranges, SessionConfig s) {
    return ExecutorSessions.lease(
        baselineId + "/coverage/" + ranges.hashCode() + "/" + s,
        () -> {
          OverflowProbe p =
              OverflowProbe.open(ModelIO.load(baseline.value(), "model 0"), ranges, s);
          return new ExecutorSessions.Opened<>(p, p.session());
        });
  }

  /**
   * Data hygiene by Spark itself: rows whose model inputs equal those of another row (exact
   * duplicates, by value). Spark SQL groups the rows by two independent hashes of their inputs
   * (xxHash64 and Murmur3: 96 bits, so a collision among 10<sup>9</sup> rows has odds near
   * 10<sup>−11</sup>): its aggregation holds 12 bytes per distinct row instead of the inputs, and
   * spills to disk past its share of the heap. No calibration data is compared on Spark.
   */
  EvaluationReport.Hygiene hygiene(long samples) {
    List<Column> inputs = new ArrayList<>();
    columns.forEach(c -> inputs.add(data.col(c.column())));
    if (text != null) {
      inputs.add(data.col(text.column()));
    }
    Column[] cols = inputs.toArray(Column[]::new);
    long distinct = data.select(functions.xxhash64(cols), functions.hash(cols)).distinct().count();
    return new EvaluationReport.Hygiene(samples, distinct, samples - distinct, 0, 0, List.of());
  }

  /** Builds a {@link SparkEvaluation}. */
  public static final class Builder {
    private Map.@Nullable Entry<String, Path> baseline;
    private final List<Map.Entry<String, Path>> candidates = new ArrayList<>();
    private @Nullable String taskSpec;
    private @Nullable Dataset<Row> data;
    private String dataName = "data";
    private final List<TensorColumn> columns = new ArrayList<>();
    private @Nullable TextColumn text;
    private @Nullable String labelColumn;
    private final List<Slicer> slicers = new ArrayList<>();
    private @Nullable String indexColumn;
    private int partitions;
    private int batchSize = 64;
    private Bootstrap bootstrap = Bootstrap.defaults();
    private SessionConfig session = SessionConfig.defaults().withThreads(1);
    private double wattsPerCore = 10;
    private @Nullable Path rangesModel;

    private Builder() {}

    private List<Map.Entry<String, Path>> modelFiles() {
      List<Map.Entry<String, Path>> all = new ArrayList<>();
      all.add(baseline);
      all.addAll(candidates);
      return all;
    }

    /** The reference (FP32) model. */
    public Builder baseline(String name, Path file) {
      if (baseline != null) {
        throw new IllegalArgumentException("SparkEvaluation.baseline: give one baseline");
      }
      this.baseline = Map.entry(name, file);
      return this;
    }

    /** A model to compare with the baseline (several may be given). */
    public Builder candidate(String name, Path file) {
      candidates.add(Map.entry(name, file));
      return this;
    }

    /** The task spec, as {@code quantguard evaluate --task} takes it. */
    public Builder task(String spec) {
      this.taskSpec = Objects.requireNonNull(spec, "spec");
      return this;
    }

    /** The rows to evaluate; {@code name} is the data set's name in the report (default data). */
    public Builder data(Dataset<Row> rows) {
      this.data = rows;
      return this;
    }

    public Builder dataName(String name) {
      this.dataName = Objects.requireNonNull(name, "name");
      return this;
    }

    /** Model input {@code input} is column {@code column}, one sample of shape {@code shape}. */
    public Builder input(String input, String column, long... shape) {
      columns.add(new TensorColumn(input, column, shape));
      return this;
    }

    /**
     * A column of text, tokenized on the executors into {@code input_ids}, {@code attention_mask}
     * and {@code token_type_ids} as the {@code text:} data spec does ({@code
     * tokenizer=FILE&max_length=N}); its samples get the attributes {@code tokens} and {@code
     * truncated} to slice by.
     */
    public Builder text(String column, Path tokenizer, int maxLength) {
      this.text = TextColumn.of(column, tokenizer, maxLength, false);
      return this;
    }

    /** The column of class labels (whole numbers; null is unlabeled). */
    public Builder label(String column) {
      this.labelColumn = Objects.requireNonNull(column, "column");
      return this;
    }

    /**
     * A slicing as {@code evaluate --slice-by} takes it: {@code label}, or a column whose values
     * name the slices ({@code COLUMN}, numbers in power-of-two buckets; {@code COLUMN=e1,e2} for
     * buckets split at those edges).
     */
    public Builder slice(String spec) {
      Slicer s = Slicer.parse(spec);
      if (s instanceof Slicer.ByData) {
        throw new IllegalArgumentException(
            "SparkEvaluation.slice: a Spark evaluation reads one data set; slice by a column");
      }
      if (!slicers.contains(s)) {
        slicers.add(s);
      }
      return this;
    }

    /**
     * Numbers the rows by this column (0, 1, 2, …) instead of by the data set's order, which a file
     * source with several files does not keep; the report then does not depend on how Spark read
     * the files.
     */
    public Builder indexColumn(String column) {
      this.indexColumn = Objects.requireNonNull(column, "column");
      return this;
    }

    /** Regroups the rows into this many partitions (the report does not depend on it). */
    public Builder partitions(int n) {
      if (n <= 0) {
        throw new IllegalArgumentException("SparkEvaluation.partitions: " + n + " is not positive");
      }
      this.partitions = n;
      return this;
    }

    public Builder batchSize(int n) {
      if (n <= 0) {
        throw new IllegalArgumentException("SparkEvaluation.batchSize: " + n + " is not positive");
      }
      this.batchSize = n;
      return this;
    }

    /** Resamples, confidence and seed; the resampling is always Poisson keyed by row index. */
    public Builder bootstrap(Bootstrap b) {
      this.bootstrap = Objects.requireNonNull(b, "bootstrap");
      return this;
    }

    /**
     * ONNX Runtime settings on the executors (default: one intra-op thread per session, since Spark
     * runs a task per core).
     */
    public Builder session(SessionConfig config) {
      this.session = Objects.requireNonNull(config, "config");
      return this;
    }

    /** Declared power of one busy core, for the energy estimate. */
    public Builder wattsPerCore(double watts) {
      this.wattsPerCore = watts;
      return this;
    }

    /**
     * Measures calibration coverage against the activation ranges of this static (QDQ) quantization
     * of the baseline, as {@code evaluate --calibration-ranges} does: per slice and tensor the
     * share of FP32 activations the quantized model clips, and the samples that clip most ({@code
     * calibrationCoverage} in the report).
     */
    public Builder calibrationRanges(Path quantizedModel) {
      this.rangesModel = Objects.requireNonNull(quantizedModel, "quantizedModel");
      return this;
    }

    public SparkEvaluation build() {
      return new SparkEvaluation(this);
    }
  }
}

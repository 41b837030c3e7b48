package io.quantguard.spark;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.quantize.Calibration;
import io.quantguard.quantize.CalibrationAccumulator;
import io.quantguard.quantize.CalibrationPlan;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.ResolvedRecipe;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.DataFingerprint;
import io.quantguard.runtime.data.DataSource;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.jspecify.annotations.Nullable;
import scala.Tuple2;

/**
 * Calibration of a model on a Spark {@code Dataset<Row>}, with the same result as {@link
 * Quantizer#calibrate} on the same rows in the same order, whatever the partitioning. The driver
 * makes the {@link CalibrationPlan}; each row gets its global index (the data set's order, or an
 * index column); rows are regrouped into partitions of whole units of {@link DataFingerprint#BLOCK}
 * samples (and of whole batches) and sorted by index; each partition runs the FP32 model with ONNX
 * Runtime (one session per executor JVM, reused by every task) into a {@link
 * CalibrationAccumulator}; the accumulators merge exactly on the way to the driver, which finishes
 * the {@link Calibration}.
 *
 * <pre>{@code
 * Calibration c = SparkCalibration.builder()
 *     .model(fp32).recipe(recipe).data(dataset)
 *     .input("image", "pixels", 1, 28, 28)
 *     .build()
 *     .calibrate();
 * QuantizationResult q = Quantizer.quantize(c, recipe, Quantizer.Options.defaults());
 * }</pre>
 */
public final class SparkCalibration {
  private final OnnxModel model;
  private final Recipe recipe;
  private final Dataset<Row> data;
  private final List<TensorColumn> columns;
  private final @Nullable TextColumn text;
  private final int partitions;
  private final SessionConfig session;
  private final @Nullable String indexColumn;

  private SparkCalibration(Builder b) {
    this.model = Objects.requireNonNull(b.model, "model");
    this.recipe = Objects.requireNonNull(b.recipe, "recipe");
    this.data = Objects.requireNonNull(b.data, "data");
    if (b.columns.isEmpty() && b.text == null) {
      throw new IllegalArgumentException(
          "SparkCalibration.input: name at least one model input and the column that holds it, or"
              + " a text column to tokenize (SparkCalibration.text)");
    }
    this.columns = List.copyOf(b.columns);
    this.text = b.text;
    this.partitions = b.partitions > 0 ? b.partitions : data.rdd().getNumPartitions();
    this.session = b.session;
    this.indexColumn = b.indexColumn;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The plan the job follows: the first batch of rows is read on the driver to learn types. */
  public CalibrationPlan plan() {
    int batchSize = ResolvedRecipe.of(recipe).batchSize();
    List<Tuple2<Long, Row>> head = new ArrayList<>();
    long i = 0;
    Dataset<Row> leading =
        indexColumn == null ? data : data.where(data.col(indexColumn).lt(batchSize));
    for (Row r : leading.limit(batchSize).collectAsList()) {
      head.add(new Tuple2<>(i++, r));
    }
    if (head.isEmpty()) {
      throw new IllegalArgumentException("the calibration data set holds no rows");
    }
    Batch first;
    try (HuggingFaceTokenizer tokenizer = text == null ? null : text.open()) {
      first =
          new RowBatches(head.iterator(), columns, text, tokenizer, batchSize, null, List.of())
              .next();
    }
    DataSource sample = DataSource.of("Spark data set", List.of(first));
    return Quantizer.planCalibration(
        model, recipe, sample, new Quantizer.Options(session, io.quantguard.runtime.Progress.NONE));
  }

  /** Runs the job and returns the merged statistics (to write, or to finish with the plan). */
  public CalibrationAccumulator accumulate(CalibrationPlan plan) {
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(data.sparkSession().sparkContext());
    Broadcast<byte[]> planBytes = sc.broadcast(bytes(plan));
    String planId = plan.id();
    long limit = plan.maxSamples();
    long unit = unit(plan.batchSize());
    List<TensorColumn> cols = columns;
    TextColumn textColumn = text;
    SessionConfig config = session;
    JavaRDD<byte[]> parts =
        IndexedRows.regroup(data, indexColumn, partitions, unit, limit)
            .mapPartitions(rows -> accumulate(rows, planId, planBytes, cols, textColumn, config));
    byte[] merged = parts.treeReduce(SparkCalibration::merge);
    return read(merged);
  }

  /** The calibration: {@link #plan()}, {@link #accumulate}, {@link CalibrationPlan#finish}. */
  public Calibration calibrate() {
    CalibrationPlan plan = plan();
    return plan.finish(accumulate(plan));
  }

  /**
   * Rows per partition unit: whole fingerprint blocks and whole batches, so that every partition
   * sees the blocks and batches a local pass sees.
   */
  static long unit(int batchSize) {
    long block = DataFingerprint.BLOCK;
    return block
        / BigInteger.valueOf(block).gcd(BigInteger.valueOf(batchSize)).longValue()
        * batchSize;
  }

  private static Iterator<byte[]> accumulate(
      Iterator<Tuple2<Long, Row>> rows,
      String planId,
      Broadcast<byte[]> planBytes,
      List<TensorColumn> columns,
      @Nullable TextColumn text,
      SessionConfig config) {
    try (ExecutorSessions.Leased<CalibrationPlan> s =
            ExecutorSessions.lease(planId, () -> open(planBytes.value(), config));
        HuggingFaceTokenizer tokenizer = text == null ? null : text.open()) {
      CalibrationPlan plan = s.value();
      CalibrationAccumulator acc = plan.newAccumulator();
      List<String> outputs = plan.outputs();
      RowBatches batches =
          new RowBatches(rows, columns, text, tokenizer, plan.batchSize(), null, List.of());
      while (batches.hasNext()) {
        Batch b = batches.next();
        Map<String, Tensor> feed = s.session().session().bind(b.inputs());
        Map<String, Tensor> values = new LinkedHashMap<>(feed);
        if (!outputs.isEmpty()) {
          values.putAll(s.session().run(feed, outputs));
        }
        acc.add(b, values);
      }
      return List.of(bytes(acc)).iterator();
    }
  }

  private static ExecutorSessions.Opened<CalibrationPlan> open(byte[] bytes, SessionConfig config) {
    CalibrationPlan plan;
    try {
      plan = CalibrationPlan.readFrom(new ByteArrayInputStream(bytes));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new ExecutorSessions.Opened<>(
        plan, InferenceSession.open(plan.model(), config, plan.outputs()));
  }

  private static byte[] merge(byte[] a, byte[] b) {
    CalibrationAccumulator x = read(a);
    x.merge(read(b));
    return bytes(x);
  }

  private static CalibrationAccumulator read(byte[] b) {
    try {
      return CalibrationAccumulator.readFrom(new ByteArrayInputStream(b));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] bytes(CalibrationAccumulator a) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      a.writeTo(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static byte[] bytes(CalibrationPlan p) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      p.writeTo(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Builds a {@link SparkCalibration}; model, recipe, data and at least one input are required. */
  public static final class Builder {
    private @Nullable OnnxModel model;
    private @Nullable Recipe recipe;
    private @Nullable Dataset<Row> data;
    private final List<TensorColumn> columns = new ArrayList<>();
    private @Nullable TextColumn text;
    private int partitions;
    private SessionConfig session = SessionConfig.defaults();
    private @Nullable String indexColumn;

    private Builder() {}

    /** The FP32 model. */
    public Builder model(OnnxModel model) {
      this.model = model;
      return this;
    }

    /** The recipe to calibrate for (its calibration settings: samples, batch size, channels). */
    public Builder recipe(Recipe recipe) {
      this.recipe = recipe;
      return this;
    }

    /** The calibration rows, in the order that defines them (the first samples count). */
    public Builder data(Dataset<Row> data) {
      this.data = data;
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
     * tokenizer=FILE&max_length=N}).
     */
    public Builder text(String column, java.nio.file.Path tokenizer, int maxLength) {
      this.text = TextColumn.of(column, tokenizer, maxLength, false);
      return this;
    }

    /** Partitions of the job (default: the data set's); the result does not depend on it. */
    public Builder partitions(int partitions) {
      if (partitions <= 0) {
        throw new IllegalArgumentException(
            "SparkCalibration.partitions: " + partitions + " is not positive");
      }
      this.partitions = partitions;
      return this;
    }

    /**
     * Numbers the samples by this column (0, 1, 2, … : the order a local pass would read them in)
     * instead of by the data set's row order, which a file source with several files does not keep
     * (Spark orders file splits by size). Rows from index {@code samples} on are not used.
     */
    public Builder indexColumn(String column) {
      this.indexColumn = Objects.requireNonNull(column, "column");
      return this;
    }

    /** ONNX Runtime settings on the executors (default: {@link SessionConfig#defaults()}). */
    public Builder session(SessionConfig session) {
      this.session = Objects.requireNonNull(session, "session");
      return this;
    }

    public SparkCalibration build() {
      return new SparkCalibration(this);
    }
  }
}

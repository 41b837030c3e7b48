package io.quantguard.spark;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.Evaluation;
import io.quantguard.evaluate.Slicer;
import io.quantguard.evaluate.Tasks;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.Calibration;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.Gate;
import io.quantguard.report.McNemarTest;
import io.quantguard.report.MetricEstimate;
import io.quantguard.report.ReportReader;
import io.quantguard.report.ReportWriter;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Fashion-MNIST CNN, FP32 against its static int8 quantization, evaluated on Spark ({@code
 * local[2]}) in 1, 3 and 7 partitions: one report, bit for bit, whatever the partitioning, with the
 * point estimates, McNemar counts and flips of {@link Evaluation} on one machine; {@code Main
 * evaluate} on Parquet gives it too, and {@link Gate} judges it. On the 10,000 test images where
 * {@code ../shared} has them, else on the 2,000 in the repository.
 */
class SparkEvaluationTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int RESAMPLES = 200;

  private static SparkSession spark;

  @TempDir static Path tmp;

  @BeforeAll
  static void start() {
    spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("quantguard-spark-evaluation-test")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .getOrCreate();
  }

  @AfterAll
  static void stop() {
    if (spark != null) {
      spark.stop();
    }
  }

  /** The full test set where it is present, else the repository's first 2,000 test images. */
  private static Path testImages() {
    Path full = TestModels.fixtures().resolve("fashion-mnist").resolve("t10k-images-idx3-ubyte.gz");
    return Files.isRegularFile(full)
        ? full
        : TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz");
  }

  /** The images as rows of pixels, label and index, in order, in {@code partitions} slices. */
  private static Dataset<Row> rows(String spec, int partitions) {
    List<Row> rows = new ArrayList<>();
    try (BatchStream b = DataSpec.parse(spec).open(500)) {
      while (b.hasNext()) {
        Batch batch = b.next();
        Tensor t = batch.inputs().get("image");
        float[] v = t.floats();
        int per = v.length / batch.size();
        for (int i = 0; i < batch.size(); i++) {
          rows.add(
              RowFactory.create(
                  Arrays.copyOfRange(v, i * per, (i + 1) * per),
                  batch.labels()[i],
                  (long) rows.size()));
        }
      }
    }
    StructType schema =
        new StructType()
            .add("pixels", DataTypes.createArrayType(DataTypes.FloatType, false), false)
            .add("label", DataTypes.LongType, false)
            .add("index", DataTypes.LongType, false);
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    return spark.createDataFrame(sc.parallelize(rows, partitions), schema);
  }

  /** The CNN's static int8 quantization, kept under target/ for `quantguard evaluate` too. */
  private static synchronized Path int8() throws Exception {
    Path kept = Files.createDirectories(Path.of("target", "spark-evaluation"));
    Path int8 = kept.resolve("cnn.int8.onnx");
    if (!Files.isRegularFile(int8)) {
      OnnxModel fp32 = ModelIO.load(TestModels.fashionCnn());
      Recipe recipe = Recipe.builder().build();
      Calibration c =
          Quantizer.calibrate(
              fp32,
              recipe,
              DataSpec.parse(
                  "idx:"
                      + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz")
                      + "?input=image&limit=1000"),
              Quantizer.Options.defaults());
      ModelIO.save(Quantizer.quantize(c, recipe, Quantizer.Options.defaults()).model(), int8);
    }
    return int8;
  }

  /**
   * Images as serialized ONNX TensorProtos in a binary column give the report of the same images as
   * arrays of floats.
   */
  @Test
  void tensorProtoBytesGiveTheReportOfNumberArrays() throws Exception {
    Path cnn = TestModels.fashionCnn();
    Path int8 = int8();
    String spec =
        "idx:" + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz") + "?input=image";
    Dataset<Row> arrays = rows(spec, 2);
    StructType schema =
        new StructType()
            .add("pixels", DataTypes.BinaryType, false)
            .add("label", DataTypes.LongType, false)
            .add("index", DataTypes.LongType, false);
    long[] shape = {1, 28, 28};
    List<Row> protos = new ArrayList<>();
    for (Row r : arrays.collectAsList()) {
      List<Float> v = r.getList(0);
      float[] f = new float[v.size()];
      for (int i = 0; i < f.length; i++) {
        f[i] = v.get(i);
      }
      protos.add(
          RowFactory.create(
              TensorCodec.fromFloats("image", shape, f).toByteArray(), r.get(1), r.get(2)));
    }
    Dataset<Row> bytes =
        spark.createDataFrame(
            JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(protos, 2), schema);
    List<String> reports = new ArrayList<>();
    for (Dataset<Row> data : List.of(arrays, bytes)) {
      EvaluationReport r =
          SparkEvaluation.builder()
              .baseline("fp32", cnn)
              .candidate("int8", int8)
              .task("classification")
              .data(data)
              .input("image", "pixels", shape)
              .label("label")
              .indexColumn("index")
              .bootstrap(new Bootstrap(100, 0.95, 42))
              .build()
              .run();
      assertThat(r.baseline().all().samples()).isEqualTo(2000);
      reports.add(results(r));
    }
    assertThat(reports.get(1)).isEqualTo(reports.get(0));
  }

  /**
   * Calibration coverage against the int8 model's ranges, counted on the executors in 3 partitions
   * and merged, is the section {@code evaluate --calibration-ranges} writes on one machine.
   */
  @Test
  void calibrationCoverageIsTheLocalOne() throws Exception {
    Path cnn = TestModels.fashionCnn();
    Path int8 = int8();
    String spec =
        "idx:" + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz") + "?input=image";
    Bootstrap none = new Bootstrap(0, 0.95, 42);
    EvaluationReport local =
        Evaluation.builder()
            .baseline("fp32", cnn)
            .candidate("int8", int8)
            .task(Tasks.parse("classification"), "classification")
            .data("test", DataSpec.parse(spec))
            .sliceBy(Slicer.parse("label"))
            .batchSize(64)
            .session(SessionConfig.defaults().withThreads(1))
            .bootstrap(none)
            .calibrationRanges(int8)
            .build()
            .run();
    EvaluationReport r =
        SparkEvaluation.builder()
            .baseline("fp32", cnn)
            .candidate("int8", int8)
            .task("classification")
            .data(rows(spec, 3))
            .dataName("test")
            .input("image", "pixels", 1, 28, 28)
            .label("label")
            .slice("label")
            .indexColumn("index")
            .batchSize(64)
            .bootstrap(none)
            .calibrationRanges(int8)
            .build()
            .run();
    assertThat(local.calibrationCoverage()).isNotNull();
    assertThat(local.calibrationCoverage().slices()).hasSize(11);
    assertThat(JSON.writeValueAsString(r.calibrationCoverage()))
        .isEqualTo(JSON.writeValueAsString(local.calibrationCoverage()));
  }

  /**
   * Hygiene counts the rows whose inputs repeat an earlier row's, as an exact count of distinct
   * pixel arrays on the driver does: the 2,000 images with 7 of them appended again.
   */
  @Test
  void hygieneCountsRowsWhoseInputsRepeatOthers() throws Exception {
    String spec =
        "idx:" + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz") + "?input=image";
    Dataset<Row> images = rows(spec, 3);
    Dataset<Row> data = images.union(images.where(images.col("index").lt(7)));
    Set<List<Float>> distinct = new HashSet<>();
    for (Row r : data.select("pixels").collectAsList()) {
      distinct.add(r.getList(0));
    }
    long n = data.count();
    EvaluationReport.Hygiene h =
        SparkEvaluation.builder()
            .baseline("fp32", TestModels.fashionCnn())
            .candidate("int8", int8())
            .task("classification")
            .data(data)
            .input("image", "pixels", 1, 28, 28)
            .build()
            .hygiene(n);
    assertThat(h.duplicateTestSamples()).isEqualTo(n - distinct.size()).isGreaterThanOrEqualTo(7);
  }

  @Test
  void oneThreeAndSevenPartitionsGiveOneReportWithThePointEstimatesOfEvaluate() throws Exception {
    Path cnn = TestModels.fashionCnn();
    Path kept = Path.of("target", "spark-evaluation");
    Path int8 = int8();
    Path images = testImages();
    String spec = "idx:" + images + "?input=image";
    long[] shape;
    try (BatchStream b = DataSpec.parse(spec).open(1)) {
      long[] s = b.next().inputs().get("image").shape();
      shape = Arrays.copyOfRange(s, 1, s.length);
    }

    long t0 = System.nanoTime();
    EvaluationReport local =
        Evaluation.builder()
            .baseline("fp32", cnn)
            .candidate("int8", int8)
            .task(Tasks.parse("classification"), "classification")
            .data("test", DataSpec.parse(spec))
            .sliceBy(Slicer.parse("label"))
            .batchSize(64)
            .session(SessionConfig.defaults().withThreads(1))
            .bootstrap(new Bootstrap(RESAMPLES, 0.95, 42))
            .build()
            .run();
    double localSeconds = (System.nanoTime() - t0) / 1e9;
    long n = local.baseline().all().samples();
    System.out.printf("local evaluate: %d images in %.1f s; %s%n", n, localSeconds, figures(local));

    String first = null;
    EvaluationReport spark3 = null;
    for (int partitions : new int[] {1, 3, 7}) {
      Dataset<Row> data = rows(spec, partitions);
      assertThat(data.rdd().getNumPartitions()).isEqualTo(partitions);
      long start = System.nanoTime();
      EvaluationReport r =
          SparkEvaluation.builder()
              .baseline("fp32", cnn)
              .candidate("int8", int8)
              .task("classification")
              .data(data)
              .dataName("test")
              .input("image", "pixels", shape)
              .label("label")
              .slice("label")
              .batchSize(64)
              .bootstrap(new Bootstrap(RESAMPLES, 0.95, 42))
              .build()
              .run();
      System.out.printf(
          "Spark local[2], %d partitions: %.1f s; %s%n",
          partitions, (System.nanoTime() - start) / 1e9, figures(r));
      assertThat(r.schema()).isEqualTo(EvaluationReport.SCHEMA);
      assertThat(r.settings().bootstrapResampling()).isEqualTo("poisson");
      assertThat(r.baseline().all().samples()).isEqualTo(n);
      assertThat(r.hygiene().duplicateTestSamples())
          .isEqualTo(local.hygiene().duplicateTestSamples());
      String results = results(r);
      if (first == null) {
        first = results;
      } else {
        assertThat(results).as("%d partitions", partitions).isEqualTo(first);
      }
      if (partitions == 3) {
        spark3 = r;
      }
      samePointEstimates(r, local);
    }

    // The report goes through the gate as it is, from the file.
    Path dir = kept.resolve("report-3-partitions");
    ReportWriter.write(spark3, dir);
    Path policy = tmp.resolve("policy.yaml");
    Files.writeString(
        policy, "name: spark\nrules:\n  accuracy: {max_drop: 1%}\n  flip_rate: {max: 5%}\n");
    MetricEstimate acc = spark3.model("int8").orElseThrow().all().metric("accuracy").orElseThrow();
    MetricEstimate flips =
        spark3.model("int8").orElseThrow().all().metric("flip_rate").orElseThrow();
    Gate.Result g = Gate.builder().policy(policy).report(dir.resolve("report.json")).build().run();
    assertThat(g.judgement().verdicts("int8")).isNotEmpty();
    assertThat(g.passed()).isEqualTo(acc.delta() >= -0.01 && flips.value() <= 0.05);
    assertThat(results(ReportReader.read(dir.resolve("report.json")))).isEqualTo(first);

    // spark-submit's entry point on Parquet in 3 files, numbered by the index column.
    Path parquet = tmp.resolve("test.parquet");
    rows(spec, 3).write().parquet(parquet.toString());
    Path out = tmp.resolve("main-report");
    Main.main(
        new String[] {
          "evaluate",
          "--baseline",
          "fp32=" + cnn,
          "--candidate",
          "int8=" + int8,
          "--task",
          "classification",
          "--data",
          parquet.toString(),
          "--input",
          "image=pixels:" + shape[0] + "x" + shape[1] + "x" + shape[2],
          "--label",
          "label",
          "--slice-by",
          "label",
          "--index",
          "index",
          "--partitions",
          "2",
          "--bootstrap",
          Integer.toString(RESAMPLES),
          "--report",
          out.toString()
        });
    EvaluationReport fromMain = ReportReader.read(out.resolve("report.json"));
    samePointEstimates(fromMain, local);
    assertThat(results(fromMain)).isEqualTo(first);
  }

  /**
   * Every model's results per slice, worst slice and verdict: what must not depend on partitions.
   */
  private static String results(EvaluationReport r) throws Exception {
    List<Object> out = new ArrayList<>();
    for (EvaluationReport.ModelReport m : r.models()) {
      out.add(List.of(m.name(), m.slices(), String.valueOf(m.worstSlice())));
    }
    return JSON.writeValueAsString(out);
  }

  private static void samePointEstimates(EvaluationReport got, EvaluationReport want)
      throws Exception {
    assertThat(got.models()).hasSameSizeAs(want.models());
    for (int m = 0; m < want.models().size(); m++) {
      List<EvaluationReport.SliceResult> w = want.models().get(m).slices();
      List<EvaluationReport.SliceResult> g = got.models().get(m).slices();
      assertThat(g.stream().map(EvaluationReport.SliceResult::slice))
          .containsExactlyElementsOf(w.stream().map(EvaluationReport.SliceResult::slice).toList());
      for (int s = 0; s < w.size(); s++) {
        assertThat(g.get(s).samples()).isEqualTo(w.get(s).samples());
        assertThat(JSON.writeValueAsString(g.get(s).classification()))
            .as("confusion, flips, McNemar, reliability of %s", w.get(s).slice())
            .isEqualTo(JSON.writeValueAsString(w.get(s).classification()));
        for (MetricEstimate e : w.get(s).metrics()) {
          MetricEstimate x = g.get(s).metric(e.name()).orElseThrow();
          assertThat(x.value()).as(e.name()).isEqualTo(e.value());
          assertThat(x.baseline()).as(e.name()).isEqualTo(e.baseline());
          assertThat(x.delta()).as(e.name()).isEqualTo(e.delta());
        }
      }
    }
  }

  private static String figures(EvaluationReport r) {
    EvaluationReport.SliceResult all = r.model("int8").orElseThrow().all();
    MetricEstimate acc = all.metric("accuracy").orElseThrow();
    MetricEstimate flips = all.metric("flip_rate").orElseThrow();
    McNemarTest mc = all.classification().mcnemar();
    return String.format(
        "accuracy fp32 %.4f int8 %.4f (delta %+.4f [%+.4f, %+.4f]); flip rate %.4f [%.4f, %.4f];"
            + " McNemar b=%d c=%d mid-p %.3f",
        acc.baseline(),
        acc.value(),
        acc.delta(),
        acc.deltaLow(),
        acc.deltaHigh(),
        flips.value(),
        flips.low(),
        flips.high(),
        mc.baselineOnlyCorrect(),
        mc.modelOnlyCorrect(),
        mc.midP());
  }
}

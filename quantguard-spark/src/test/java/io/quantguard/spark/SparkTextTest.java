package io.quantguard.spark;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.Evaluation;
import io.quantguard.evaluate.Slicer;
import io.quantguard.evaluate.Tasks;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.quantize.Calibration;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.MetricEstimate;
import io.quantguard.runtime.ResourceLocator;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

/**
 * all-MiniLM-L6-v2 on Europarl texts held in a Spark column and tokenized on the executors: the
 * evaluation against its dynamically quantized peer and the calibration of its static int8 recipe,
 * on 3 partitions, give what {@code text:} data on one machine gives (the evaluation with the same
 * Poisson bootstrap locally: the same report, intervals included).
 */
class SparkTextTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_LENGTH = 64;

  private static SparkSession spark;

  @BeforeAll
  static void start() {
    spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("quantguard-spark-text-test")
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

  private static String europarl(int limit) {
    return "text:europarl?tokenizer=minilm-tokenizer&column=3&max_length="
        + MAX_LENGTH
        + "&limit="
        + limit;
  }

  /** The texts the spec reads, as rows of text and index, in {@code partitions} slices. */
  private static Dataset<Row> rows(String spec, int partitions) {
    List<Row> rows = new ArrayList<>();
    try (BatchStream b = DataSpec.parse(spec).open(100)) {
      while (b.hasNext()) {
        Batch batch = b.next();
        for (int i = 0; i < batch.size(); i++) {
          rows.add(RowFactory.create(batch.attributes().get(i).get("text"), (long) rows.size()));
        }
      }
    }
    StructType schema =
        new StructType()
            .add("body", DataTypes.StringType, false)
            .add("index", DataTypes.LongType, false);
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    return spark.createDataFrame(sc.parallelize(rows, partitions), schema);
  }

  @Test
  void embeddingEvaluationOfTextColumnsIsTheLocalOne() throws Exception {
    String spec = europarl(160);
    Path fp32 = ResourceLocator.resolve("minilm");
    Path q = ResourceLocator.resolve("minilm-q");
    Path tokenizer = ResourceLocator.resolve("minilm-tokenizer");
    EvaluationReport local =
        Evaluation.builder()
            .baseline("minilm", fp32)
            .candidate("minilm-q", q)
            .task(Tasks.parse("embedding"), "embedding")
            .data("europarl", DataSpec.parse(spec))
            .sliceBy(Slicer.parse("tokens=32"))
            .batchSize(32)
            .session(SessionConfig.defaults().withThreads(1))
            .bootstrap(new Bootstrap(100, 0.95, 42, Bootstrap.Resampling.POISSON))
            .build()
            .run();
    for (int partitions : new int[] {3}) {
      long start = System.nanoTime();
      EvaluationReport r =
          SparkEvaluation.builder()
              .baseline("minilm", fp32)
              .candidate("minilm-q", q)
              .task("embedding")
              .data(rows(spec, partitions))
              .dataName("europarl")
              .text("body", tokenizer, MAX_LENGTH)
              .slice("tokens=32")
              .batchSize(32)
              .bootstrap(new Bootstrap(100, 0.95, 42))
              .build()
              .run();
      EvaluationReport.SliceResult all = r.model("minilm-q").orElseThrow().all();
      System.out.printf(
          "MiniLM on Spark, %d partitions: %.1f s; cosine_mean %.6f [%.6f, %.6f]%n",
          partitions,
          (System.nanoTime() - start) / 1e9,
          all.metric("cosine_mean").orElseThrow().value(),
          all.metric("cosine_mean").orElseThrow().low(),
          all.metric("cosine_mean").orElseThrow().high());
      // The Poisson bootstrap keyed by row gives the local run's intervals too: the whole report.
      assertThat(JSON.writeValueAsString(r.model("minilm-q").orElseThrow().slices()))
          .isEqualTo(JSON.writeValueAsString(local.model("minilm-q").orElseThrow().slices()));
      for (int m = 0; m < 2; m++) {
        List<EvaluationReport.SliceResult> want = local.models().get(m).slices();
        List<EvaluationReport.SliceResult> got = r.models().get(m).slices();
        assertThat(got.stream().map(EvaluationReport.SliceResult::slice))
            .containsExactlyElementsOf(
                want.stream().map(EvaluationReport.SliceResult::slice).toList());
        for (int s = 0; s < want.size(); s++) {
          assertThat(got.get(s).samples()).isEqualTo(want.get(s).samples());
          assertThat(got.get(s).figures()).isEqualTo(want.get(s).figures());
          for (MetricEstimate e : want.get(s).metrics()) {
            assertThat(got.get(s).metric(e.name()).orElseThrow().value())
                .as("%s on %s", e.name(), want.get(s).slice())
                .isEqualTo(e.value());
          }
        }
      }
    }
  }

  @Test
  void staticInt8CalibrationOfTextColumnsQuantizesToTheLocalBytes() throws Exception {
    Recipe recipe =
        RecipeIO.parse("calibration: {samples: 400, batch_size: 32}", "spark-text")
            .over(RecipeIO.read(Path.of("..", "recipes", "minilm-static-int8.yaml")));
    OnnxModel fp32 = ModelIO.load(ResourceLocator.resolve("minilm"));
    String spec = europarl(400);
    Calibration local = Quantizer.calibrate(fp32, recipe, DataSpec.parse(spec), options());
    byte[] expected = ModelIO.toBytes(Quantizer.quantize(local, recipe, options()).model());
    // 400 samples are two units of 256 (the fingerprint's block): 3 partitions split them.
    for (int partitions : new int[] {3}) {
      long start = System.nanoTime();
      Calibration c =
          SparkCalibration.builder()
              .model(fp32)
              .recipe(recipe)
              .data(rows(spec, partitions))
              .text("body", ResourceLocator.resolve("minilm-tokenizer"), MAX_LENGTH)
              .session(SessionConfig.defaults().withThreads(1))
              .build()
              .calibrate();
      System.out.printf(
          "MiniLM calibration on Spark, %d partitions: %.1f s%n",
          partitions, (System.nanoTime() - start) / 1e9);
      assertThat(c.samples()).isEqualTo(400);
      assertThat(c.fingerprint()).isEqualTo(local.fingerprint());
      assertThat(ModelIO.toBytes(Quantizer.quantize(c, recipe, options()).model()))
          .as("%d partitions", partitions)
          .isEqualTo(expected);
    }
  }

  private static Quantizer.Options options() {
    return new Quantizer.Options(
        SessionConfig.defaults().withThreads(1), io.quantguard.runtime.Progress.NONE);
  }
}

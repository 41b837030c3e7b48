package io.quantguard.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.Calibration;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSource;
import io.quantguard.runtime.data.DataSpec;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
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
 * Calibration of the Fashion-MNIST CNN on Spark ({@code local[2]}) on the 2,000 sample images in 1,
 * 3 and 7 partitions quantizes to the same bytes as {@link Quantizer#quantize} on one machine.
 */
class SparkCalibrationTest {
  private static final Recipe RECIPE =
      RecipeIO.parse(
          """
          activations: {method: minmax-average}
          calibration: {samples: 2000, batch_size: 32}
          smooth: 0.5
          weights: {bias_correction: true}
          """,
          "spark-test");

  private static SparkSession spark;

  @TempDir static Path tmp;

  @BeforeAll
  static void start() {
    spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("quantguard-spark-test")
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

  private static DataSource images() {
    return DataSpec.parse(
        "idx:"
            + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz")
            + "?input=image&limit=2000");
  }

  /** The images as rows of 784 floats and their index, in order, in {@code partitions} slices. */
  private static Dataset<Row> rows(int partitions) {
    List<Row> rows = new ArrayList<>();
    try (BatchStream b = images().open(500)) {
      while (b.hasNext()) {
        Batch batch = b.next();
        Tensor t = batch.inputs().get("image");
        float[] v = t.floats();
        int per = v.length / batch.size();
        for (int i = 0; i < batch.size(); i++) {
          rows.add(
              RowFactory.create(Arrays.copyOfRange(v, i * per, (i + 1) * per), (long) rows.size()));
        }
      }
    }
    StructType schema =
        new StructType()
            .add("pixels", DataTypes.createArrayType(DataTypes.FloatType, false), false)
            .add("index", DataTypes.LongType, false);
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    return spark.createDataFrame(sc.parallelize(rows, partitions), schema);
  }

  @Test
  void oneThreeAndSevenPartitionsGiveTheBytesOfOneMachine() throws Exception {
    OnnxModel cnn = ModelIO.load(TestModels.fashionCnn());
    long[] shape;
    try (BatchStream b = images().open(1)) {
      long[] s = b.next().inputs().get("image").shape();
      shape = Arrays.copyOfRange(s, 1, s.length);
    }
    Calibration local = Quantizer.calibrate(cnn, RECIPE, images(), Quantizer.Options.defaults());
    byte[] expected =
        ModelIO.toBytes(Quantizer.quantize(local, RECIPE, Quantizer.Options.defaults()).model());
    for (int partitions : new int[] {1, 3, 7}) {
      long start = System.nanoTime();
      Dataset<Row> data = rows(partitions);
      assertThat(data.rdd().getNumPartitions()).isEqualTo(partitions);
      Calibration c =
          SparkCalibration.builder()
              .model(cnn)
              .recipe(RECIPE)
              .data(data)
              .input("image", "pixels", shape)
              .build()
              .calibrate();
      System.out.printf(
          "Spark calibration, %d partitions: %.1f s%n",
          partitions, (System.nanoTime() - start) / 1e9);
      assertThat(c.samples()).isEqualTo(2000);
      assertThat(c.fingerprint()).isEqualTo(local.fingerprint());
      byte[] got =
          ModelIO.toBytes(Quantizer.quantize(c, RECIPE, Quantizer.Options.defaults()).model());
      assertThat(got).as("%d partitions", partitions).isEqualTo(expected);
    }

    // spark-submit's entry point on Parquet in 3 files, numbered by the index column (Spark reads
    // the files largest first), writes the statistics that `quantize --calibration-stats` reads.
    Path parquet = tmp.resolve("images.parquet");
    rows(3).write().parquet(parquet.toString());
    Path model = tmp.resolve("cnn.onnx");
    ModelIO.save(cnn, model);
    Path recipe = tmp.resolve("recipe.json");
    Files.writeString(recipe, RecipeIO.toJson(RECIPE));
    Path stats = tmp.resolve("cnn.qgcal");
    Main.main(
        new String[] {
          "calibrate",
          "--model",
          model.toString(),
          "--recipe",
          recipe.toString(),
          "--data",
          parquet.toString(),
          "--input",
          "image=pixels:"
              + Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining("x")),
          "--index",
          "index",
          "--partitions",
          "2",
          "-o",
          stats.toString()
        });
    Calibration read;
    try (InputStream in = Files.newInputStream(stats)) {
      read = Calibration.readFrom(in);
    }
    assertThat(read.fingerprint()).isEqualTo(local.fingerprint());
    assertThat(
            ModelIO.toBytes(Quantizer.quantize(read, RECIPE, Quantizer.Options.defaults()).model()))
        .isEqualTo(expected);
  }
}

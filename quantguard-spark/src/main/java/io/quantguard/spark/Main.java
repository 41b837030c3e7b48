package io.quantguard.spark;

import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.quantize.Calibration;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The {@code spark-submit} entry point: {@code calibrate} computes calibration statistics on a data
 * set Spark reads and writes them to a file that {@code quantguard quantize --calibration-stats}
 * reads.
 *
 * <pre>
 * spark-submit --class io.quantguard.spark.Main quantguard-spark.jar calibrate \
 *   --model fp32.onnx [--recipe recipe.yaml] --data s3a://bucket/calibration.parquet \
 *   [--format parquet] --input image=pixels:1x28x28 [--index COLUMN] [--partitions N] -o stats.qgcal
 * </pre>
 */
public final class Main {
  private static final String USAGE =
      "usage: calibrate --model FILE [--recipe FILE] --data PATH [--format parquet]"
          + " --input NAME=COLUMN:D1xD2... [--input ...] [--samples N] [--batch-size N]"
          + " [--index COLUMN] [--partitions N] -o FILE";

  private Main() {}

  public static void main(String[] args) throws IOException {
    if (args.length == 0 || !args[0].equals("calibrate")) {
      System.err.println(USAGE);
      System.exit(2);
    }
    Path model = null;
    Path recipeFile = null;
    String data = null;
    String format = "parquet";
    Integer samples = null;
    Integer batchSize = null;
    int partitions = 0;
    String index = null;
    Path output = null;
    List<String> inputs = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      String flag = args[i];
      if (i + 1 >= args.length) {
        usage(flag + " needs a value");
      }
      String v = args[++i];
      switch (flag) {
        case "--model" -> model = Path.of(v);
        case "--recipe" -> recipeFile = Path.of(v);
        case "--data" -> data = v;
        case "--format" -> format = v;
        case "--input" -> inputs.add(v);
        case "--samples" -> samples = Integer.valueOf(v);
        case "--batch-size" -> batchSize = Integer.valueOf(v);
        case "--partitions" -> partitions = Integer.parseInt(v);
        case "--index" -> index = v;
        case "-o", "--output" -> output = Path.of(v);
        default -> usage("unknown flag " + flag);
      }
    }
    if (model == null || data == null || output == null || inputs.isEmpty()) {
      usage("--model, --data, --input and -o are required");
    }
    Recipe recipe = recipeFile != null ? RecipeIO.read(recipeFile) : Recipe.builder().build();
    if (samples != null || batchSize != null) {
      recipe =
          Recipe.builder()
              .calibration(
                  Recipe.Calibration.builder().samples(samples).batchSize(batchSize).build())
              .build()
              .over(recipe);
    }
    OnnxModel fp32 = ModelIO.load(model);
    SparkSession spark = SparkSession.builder().appName("quantguard calibrate").getOrCreate();
    try {
      Dataset<Row> rows = spark.read().format(format).load(data);
      SparkCalibration.Builder job =
          SparkCalibration.builder().model(fp32).recipe(recipe).data(rows);
      for (String in : inputs) {
        addInput(job, in);
      }
      if (partitions > 0) {
        job.partitions(partitions);
      }
      if (index != null) {
        job.indexColumn(index);
      }
      long start = System.nanoTime();
      Calibration c = job.build().calibrate();
      try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(output))) {
        c.writeTo(out);
      }
      System.out.printf(
          "Calibrated on %d samples in %.1f s, fingerprint %s; statistics in %s%n",
          c.samples(), (System.nanoTime() - start) / 1e9, c.fingerprint(), output);
    } finally {
      spark.stop();
    }
  }

  /** {@code NAME=COLUMN:D1xD2...}. */
  private static void addInput(SparkCalibration.Builder job, String spec) {
    int eq = spec.indexOf('=');
    int colon = spec.lastIndexOf(':');
    if (eq <= 0 || colon < eq) {
      usage("--input " + spec + ": write NAME=COLUMN:D1xD2..., e.g. image=pixels:1x28x28");
    }
    String[] dims = spec.substring(colon + 1).split("x");
    long[] shape = new long[dims.length];
    for (int d = 0; d < dims.length; d++) {
      shape[d] = Long.parseLong(dims[d].trim());
    }
    job.input(spec.substring(0, eq), spec.substring(eq + 1, colon), shape);
  }

  private static void usage(String problem) {
    System.err.println(problem);
    System.err.println(USAGE);
    System.exit(2);
  }
}

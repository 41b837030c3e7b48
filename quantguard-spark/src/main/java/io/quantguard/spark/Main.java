package io.quantguard.spark;

import io.quantguard.evaluate.Bootstrap;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.quantize.Calibration;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.ReportWriter;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The {@code spark-submit} entry point: {@code calibrate} computes calibration statistics on a data
 * set Spark reads and writes them to a file that {@code quantguard quantize --calibration-stats}
 * reads; {@code evaluate} compares a baseline with candidates on such a data set and writes the
 * {@code report.json} (with {@code report.md} and {@code report.html}) that {@code quantguard gate}
 * reads.
 *
 * <pre>
 * spark-submit --class io.quantguard.spark.Main quantguard-spark.jar calibrate \
 *   --model fp32.onnx [--recipe recipe.yaml] --data s3a://bucket/calibration.parquet \
 *   [--format parquet] --input image=pixels:1x28x28 [--index COLUMN] [--partitions N] -o stats.qgcal
 * spark-submit --class io.quantguard.spark.Main quantguard-spark.jar evaluate \
 *   --baseline fp32=cnn.onnx --candidate int8=cnn.int8.onnx --task classification \
 *   --data s3a://bucket/test.parquet --input image=pixels:1x28x28 --label label \
 *   [--slice-by label] [--index COLUMN] [--partitions N] [--bootstrap 1000] [--seed 42] --report DIR
 * </pre>
 */
public final class Main {
  private static final String USAGE =
      "usage: calibrate --model FILE [--recipe FILE] --data PATH [--format parquet]"
          + " (--input NAME=COLUMN:D1xD2... [--input ...] | --text COLUMN --tokenizer FILE"
          + " [--max-length 128]) [--samples N] [--batch-size N] [--index COLUMN] [--partitions N]"
          + " -o FILE\n"
          + "       evaluate --baseline [NAME=]FILE --candidate [NAME=]FILE [--candidate ...]"
          + " --task SPEC --data PATH [--format parquet] (--input NAME=COLUMN:D1xD2... | --text"
          + " COLUMN --tokenizer FILE [--max-length 128]) [--label COLUMN]"
          + " [--slice-by SPEC ...] [--calibration-ranges QDQ_FILE] [--index COLUMN]"
          + " [--partitions N] [--batch-size N] [--bootstrap N] [--seed N] [--threads N]"
          + " --report DIR";

  private Main() {}

  public static void main(String[] args) throws IOException {
    try {
      run(args);
    } catch (UsageError e) {
      System.err.println(e.getMessage());
      System.err.println(USAGE);
      System.exit(2);
    }
  }

  private static void run(String[] args) throws IOException {
    if (args.length > 0 && args[0].equals("evaluate")) {
      evaluate(args);
      return;
    }
    if (args.length == 0 || !args[0].equals("calibrate")) {
      throw usage("give the job: calibrate or evaluate");
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
    String text = null;
    Path tokenizer = null;
    int maxLength = 128;
    for (int i = 1; i < args.length; i++) {
      String flag = args[i];
      if (i + 1 >= args.length) {
        throw usage(flag + " needs a value");
      }
      String v = args[++i];
      switch (flag) {
        case "--model" -> model = Path.of(v);
        case "--recipe" -> recipeFile = Path.of(v);
        case "--data" -> data = v;
        case "--format" -> format = v;
        case "--input" -> inputs.add(v);
        case "--text" -> text = v;
        case "--tokenizer" -> tokenizer = Path.of(v);
        case "--max-length" -> maxLength = number(flag, v);
        case "--samples" -> samples = Integer.valueOf(v);
        case "--batch-size" -> batchSize = Integer.valueOf(v);
        case "--partitions" -> partitions = Integer.parseInt(v);
        case "--index" -> index = v;
        case "-o", "--output" -> output = Path.of(v);
        default -> throw usage("unknown flag " + flag);
      }
    }
    if (model == null || data == null || output == null || (inputs.isEmpty() && text == null)) {
      throw usage("--model, --data, --input (or --text) and -o are required");
    }
    if ((text == null) != (tokenizer == null)) {
      throw usage("--text and --tokenizer go together: the column of text and its tokenizer.json");
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
      if (text != null) {
        job.text(text, Objects.requireNonNull(tokenizer, "checked with --text"), maxLength);
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

  private static void evaluate(String[] args) {
    SparkEvaluation.Builder job = SparkEvaluation.builder();
    String data = null;
    String format = "parquet";
    Path report = null;
    boolean baseline = false;
    boolean candidate = false;
    boolean task = false;
    boolean input = false;
    int resamples = 1000;
    long seed = 42;
    String text = null;
    Path tokenizer = null;
    int maxLength = 128;
    for (int i = 1; i < args.length; i++) {
      String flag = args[i];
      if (i + 1 >= args.length) {
        throw usage(flag + " needs a value");
      }
      String v = args[++i];
      switch (flag) {
        case "--baseline" -> {
          String[] m = model(v);
          job.baseline(m[0], Path.of(m[1]));
          baseline = true;
        }
        case "--candidate" -> {
          String[] m = model(v);
          job.candidate(m[0], Path.of(m[1]));
          candidate = true;
        }
        case "--task" -> {
          job.task(v);
          task = true;
        }
        case "--data" -> data = v;
        case "--format" -> format = v;
        case "--input" -> {
          TensorColumn c = column(v);
          job.input(c.input(), c.column(), c.shape());
          input = true;
        }
        case "--text" -> text = v;
        case "--tokenizer" -> tokenizer = Path.of(v);
        case "--max-length" -> maxLength = number(flag, v);
        case "--label" -> job.label(v);
        case "--slice-by" -> job.slice(v);
        case "--calibration-ranges" -> job.calibrationRanges(Path.of(v));
        case "--index" -> job.indexColumn(v);
        case "--partitions" -> job.partitions(number(flag, v));
        case "--batch-size" -> job.batchSize(number(flag, v));
        case "--bootstrap" -> resamples = number(flag, v);
        case "--seed" -> seed = Long.parseLong(v);
        case "--threads" ->
            job.session(
                io.quantguard.runtime.SessionConfig.defaults().withThreads(number(flag, v)));
        case "--report" -> report = Path.of(v);
        default -> throw usage("unknown flag " + flag);
      }
    }
    if (!baseline
        || !candidate
        || !task
        || data == null
        || (!input && text == null)
        || report == null) {
      throw usage(
          "--baseline, --candidate, --task, --data, --input (or --text) and --report are required");
    }
    if ((text == null) != (tokenizer == null)) {
      throw usage("--text and --tokenizer go together: the column of text and its tokenizer.json");
    }
    if (text != null) {
      job.text(text, Objects.requireNonNull(tokenizer, "checked with --text"), maxLength);
    }
    job.bootstrap(new Bootstrap(resamples, 0.95, seed));
    SparkSession spark = SparkSession.builder().appName("quantguard evaluate").getOrCreate();
    try {
      job.data(spark.read().format(format).load(data)).dataName(dataName(data));
      long start = System.nanoTime();
      EvaluationReport r = job.build().run();
      List<Path> written = ReportWriter.write(r, report);
      System.out.printf(
          "Evaluated %d samples in %.1f s%n%s%nReport: %s%n",
          r.baseline().all().samples(),
          (System.nanoTime() - start) / 1e9,
          ReportWriter.summary(r),
          written);
    } finally {
      spark.stop();
    }
  }

  /** {@code NAME=FILE}, or a bare file named after itself. */
  private static String[] model(String spec) {
    int eq = spec.indexOf('=');
    if (eq > 0) {
      return new String[] {spec.substring(0, eq), spec.substring(eq + 1)};
    }
    String file = Path.of(spec).getFileName().toString().replaceFirst("\\.onnx$", "");
    return new String[] {file, spec};
  }

  /** The data set's name in the report: the last part of its path, without extensions. */
  private static String dataName(String path) {
    String p = path.replaceAll("/+$", "");
    String name = p.substring(p.lastIndexOf('/') + 1).replaceFirst("\\..*$", "");
    return name.isEmpty() ? "data" : name;
  }

  private static int number(String flag, String v) {
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw usage(flag + " " + v + ": give a whole number");
    }
  }

  /** {@code NAME=COLUMN:D1xD2...}. */
  private static TensorColumn column(String spec) {
    int eq = spec.indexOf('=');
    int colon = spec.lastIndexOf(':');
    if (eq <= 0 || colon < eq) {
      throw usage("--input " + spec + ": write NAME=COLUMN:D1xD2..., e.g. image=pixels:1x28x28");
    }
    String[] dims = spec.substring(colon + 1).split("x");
    long[] shape = new long[dims.length];
    try {
      for (int d = 0; d < dims.length; d++) {
        shape[d] = Long.parseLong(dims[d].trim());
      }
    } catch (NumberFormatException e) {
      throw usage(
          "--input " + spec + ": the sample shape is whole numbers joined by x, e.g. 1x28x28");
    }
    return new TensorColumn(spec.substring(0, eq), spec.substring(eq + 1, colon), shape);
  }

  private static void addInput(SparkCalibration.Builder job, String spec) {
    TensorColumn c = column(spec);
    job.input(c.input(), c.column(), c.shape());
  }

  /** A command line that cannot run: {@link #main} prints it with the usage and exits 2. */
  private static final class UsageError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageError(String problem) {
      super(problem);
    }
  }

  private static UsageError usage(String problem) {
    return new UsageError(problem);
  }
}

package io.quantguard.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.management.GarbageCollectionNotificationInfo;
import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.Evaluation;
import io.quantguard.evaluate.Slicer;
import io.quantguard.evaluate.Tasks;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.Calibration;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.MetricEstimate;
import io.quantguard.runtime.ResourceLocator;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSpec;
import java.io.ByteArrayOutputStream;
import java.io.ObjectOutputStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * The scale run: FP32 against static int8 Fashion-MNIST CNN on 1,000,000 rows ({@link
 * AugmentedFashionMnist} as Parquet) on Spark {@code local[2]}, against the single-machine {@link
 * Evaluation} (what {@code quantguard evaluate} runs) on a slice of the same rows as IDX files, in
 * one JVM whose heap bounds the driver and its executors. Prints time, throughput per core, CPU
 * seconds per 1,000 rows, the live heap after GC at its peak, and the merged state's serialized
 * size for a smaller and the full row count. A measurement, not a test: it runs only with {@code
 * -Dquantguard.measure=true} ({@code -Dquantguard.scale.rows=N}, {@code
 * -Dquantguard.scale.local=N}, {@code -Dquantguard.scale.small=N}; the heap is the surefire fork's,
 * {@code -Dquantguard.spark.heap=1g}).
 */
class SparkScaleMeasurement {
  private static final int BATCH = 64;
  private static final java.util.Set<String> HEAP_POOLS =
      ManagementFactory.getMemoryPoolMXBeans().stream()
          .filter(p -> p.getType() == java.lang.management.MemoryType.HEAP)
          .map(java.lang.management.MemoryPoolMXBean::getName)
          .collect(java.util.stream.Collectors.toSet());

  @Test
  void millionImagesOnLocal2() throws Exception {
    assumeTrue(Boolean.getBoolean("quantguard.measure"), "run with -Dquantguard.measure=true");
    Path fixtures = TestModels.fixtures().resolve("fashion-mnist");
    assumeTrue(
        Files.isRegularFile(fixtures.resolve("train-images-idx3-ubyte.gz")),
        "needs the 70,000 Fashion-MNIST images under ../shared/fixtures");
    long rows = Long.getLong("quantguard.scale.rows", 1_000_000);
    long small = Long.getLong("quantguard.scale.small", 100_000);
    int localRows = Integer.getInteger("quantguard.scale.local", 50_000);
    Path dir = Files.createDirectories(Path.of("target", "scale"));
    AugmentedFashionMnist source = AugmentedFashionMnist.read(fixtures);
    Path cnn = TestModels.fashionCnn();
    Path int8 = dir.resolve("cnn.int8.onnx");
    if (!Files.isRegularFile(int8)) {
      Recipe recipe = Recipe.builder().build();
      Calibration c =
          Quantizer.calibrate(
              ModelIO.load(cnn),
              recipe,
              DataSpec.parse(
                  "idx:"
                      + fixtures.resolve("train-images-idx3-ubyte.gz")
                      + "?input=image&limit=1000"),
              Quantizer.Options.defaults());
      ModelIO.save(Quantizer.quantize(c, recipe, Quantizer.Options.defaults()).model(), int8);
    }
    System.out.printf(
        Locale.ROOT,
        "JVM max heap %d MiB, %d processors, load average %.2f%n",
        Runtime.getRuntime().maxMemory() >> 20,
        Runtime.getRuntime().availableProcessors(),
        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());

    // The single-machine path on a slice of the same rows (in the middle, so augmented).
    Path images = dir.resolve("slice-" + localRows + "-images-idx3-ubyte.gz");
    if (!AugmentedFashionMnist.holds(images, localRows)) {
      source.writeIdx(rows / 2, localRows, dir, "slice-" + localRows);
    }
    Measured local =
        measure(
            () ->
                Evaluation.builder()
                    .baseline("fp32", cnn)
                    .candidate("int8", int8)
                    .task(Tasks.parse("classification"), "classification")
                    .data("slice", DataSpec.parse("idx:" + images + "?input=image"))
                    .sliceBy(Slicer.parse("label"))
                    .batchSize(BATCH)
                    .session(SessionConfig.defaults().withThreads(1))
                    .bootstrap(Bootstrap.defaults())
                    .build()
                    .run());
    print("local evaluate (1 ONNX Runtime thread)", localRows, 1, local);

    Path parquet = dir.resolve("fashion-" + rows + ".parquet");
    SparkSession spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("quantguard-scale")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "8")
            .getOrCreate();
    try {
      if (!Files.isDirectory(parquet)) {
        long t0 = System.nanoTime();
        source.writeParquet(spark, rows, 16, parquet);
        System.out.printf(
            Locale.ROOT,
            "wrote %d rows as Parquet in %.0f s (%d MiB)%n",
            rows,
            (System.nanoTime() - t0) / 1e9,
            size(parquet) >> 20);
      }
      Dataset<Row> all = spark.read().parquet(parquet.toString());
      for (long n : new long[] {small, rows}) {
        Dataset<Row> data = n == rows ? all : all.where(all.col("index").lt(n));
        SparkEvaluation e =
            SparkEvaluation.builder()
                .baseline("fp32", cnn)
                .candidate("int8", int8)
                .task("classification")
                .data(data)
                .dataName("fashion")
                .input("image", "pixels", 1, 28, 28)
                .label("label")
                .slice("label")
                .indexColumn("index")
                .partitions(32)
                .batchSize(BATCH)
                .bootstrap(Bootstrap.defaults())
                .build();
        var task = Tasks.parse("classification");
        Measured m = measure(() -> e.accumulate(task));
        System.out.printf(
            Locale.ROOT,
            "merged state of %d rows: %d bytes serialized%n",
            n,
            serializedSize(m.result()));
        print("Spark local[2] accumulate (32 partitions)", n, 2, m);
        Measured reported = measure(() -> report(e, task, m.result()));
        print("Spark local[2] hygiene and report", n, 2, reported);
        EvaluationReport r = (EvaluationReport) reported.result();
        MetricEstimate acc = r.model("int8").orElseThrow().all().metric("accuracy").orElseThrow();
        MetricEstimate flips =
            r.model("int8").orElseThrow().all().metric("flip_rate").orElseThrow();
        System.out.printf(
            Locale.ROOT,
            "%d rows: accuracy fp32 %.4f int8 %.4f (delta %+.4f [%+.4f, %+.4f]), flip rate %.4f"
                + " [%.4f, %.4f], duplicates %d%n",
            r.baseline().all().samples(),
            acc.baseline(),
            acc.value(),
            acc.delta(),
            acc.deltaLow(),
            acc.deltaHigh(),
            flips.value(),
            flips.low(),
            flips.high(),
            r.hygiene().duplicateTestSamples());
        assertThat(r.baseline().all().samples()).isEqualTo(n);
      }
    } finally {
      spark.stop();
    }
  }

  /**
   * The embedding case: MiniLM against its dynamically quantized peer on the first 1,000 Europarl
   * texts repeated to {@code -Dquantguard.embedding.rows} rows (and a third of them), tokenized on
   * the executors, 1,000 Poisson replicates, sliced by token count; the local {@link Evaluation}
   * scores the 1,000 texts once.
   */
  @Test
  void repeatedTextEmbeddingsOnLocal2() throws Exception {
    assumeTrue(Boolean.getBoolean("quantguard.measure"), "run with -Dquantguard.measure=true");
    long rows = Long.getLong("quantguard.embedding.rows", 6_000);
    int distinct = 1000;
    String spec =
        "text:europarl?tokenizer=minilm-tokenizer&column=3&max_length=64&limit=" + distinct;
    Path fp32 = ResourceLocator.resolve("minilm");
    Path q = ResourceLocator.resolve("minilm-q");
    Path tokenizer = ResourceLocator.resolve("minilm-tokenizer");
    Measured local =
        measure(
            () ->
                Evaluation.builder()
                    .baseline("minilm", fp32)
                    .candidate("minilm-q", q)
                    .task(Tasks.parse("embedding"), "embedding")
                    .data("europarl", DataSpec.parse(spec))
                    .sliceBy(Slicer.parse("tokens=32"))
                    .batchSize(32)
                    .session(SessionConfig.defaults().withThreads(1))
                    .bootstrap(Bootstrap.defaults())
                    .build()
                    .run());
    print("local evaluate MiniLM (1 ONNX Runtime thread)", distinct, 1, local);
    List<Row> texts = new ArrayList<>();
    try (BatchStream b = DataSpec.parse(spec).open(100)) {
      while (b.hasNext()) {
        Batch batch = b.next();
        for (int i = 0; i < batch.size(); i++) {
          texts.add(RowFactory.create((long) texts.size(), batch.attributes().get(i).get("text")));
        }
      }
    }
    SparkSession spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("quantguard-scale-text")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "8")
            .getOrCreate();
    try {
      Dataset<Row> bodies =
          spark.createDataFrame(
              texts,
              new StructType()
                  .add("k", DataTypes.LongType, false)
                  .add("body", DataTypes.StringType, false));
      for (long n : new long[] {rows / 3, rows}) {
        Dataset<Row> ids = spark.range(n).withColumnRenamed("id", "index");
        Dataset<Row> data =
            ids.join(
                    functions.broadcast(bodies),
                    functions
                        .pmod(ids.col("index"), functions.lit(distinct))
                        .equalTo(bodies.col("k")))
                .select("index", "body");
        SparkEvaluation e =
            SparkEvaluation.builder()
                .baseline("minilm", fp32)
                .candidate("minilm-q", q)
                .task("embedding")
                .data(data)
                .dataName("europarl")
                .text("body", tokenizer, 64)
                .slice("tokens=32")
                .indexColumn("index")
                .partitions(8)
                .batchSize(32)
                .bootstrap(Bootstrap.defaults())
                .build();
        var task = Tasks.parse("embedding");
        Measured m = measure(() -> e.accumulate(task));
        System.out.printf(
            Locale.ROOT,
            "merged embedding state of %d rows: %d bytes serialized%n",
            n,
            serializedSize(m.result()));
        print("Spark local[2] accumulate MiniLM (8 partitions)", n, 2, m);
        Measured reported = measure(() -> report(e, task, m.result()));
        print("Spark local[2] hygiene and report", n, 2, reported);
        EvaluationReport r = (EvaluationReport) reported.result();
        EvaluationReport.SliceResult all = r.model("minilm-q").orElseThrow().all();
        MetricEstimate p1 = all.metric("cosine_p1").orElseThrow();
        MetricEstimate mean = all.metric("cosine_mean").orElseThrow();
        System.out.printf(
            Locale.ROOT,
            "%d rows: cosine_mean %.5f [%.5f, %.5f], cosine_p1 %.5f [%.5f, %.5f], duplicates %d%n",
            all.samples(),
            mean.value(),
            mean.low(),
            mean.high(),
            p1.value(),
            p1.low(),
            p1.high(),
            r.hygiene().duplicateTestSamples());
        assertThat(all.samples()).isEqualTo(n);
      }
    } finally {
      spark.stop();
    }
  }

  @SuppressWarnings("unchecked")
  private static <P> EvaluationReport report(
      SparkEvaluation e, io.quantguard.evaluate.Task<P> task, Object state) {
    return e.report(task, (io.quantguard.evaluate.PairedAccumulator<P>) state);
  }

  /**
   * What a run took: wall and process CPU time, the largest heap left after any GC (young ones
   * included, so old-generation garbage counts), and the heap a full GC leaves at its end.
   */
  private record Measured(
      double seconds, double cpuSeconds, long peakLiveHeap, long retainedHeap, Object result) {}

  private static Measured measure(Callable<Object> run) throws Exception {
    System.gc();
    AtomicLong peak = new AtomicLong(heapUsed());
    NotificationListener listener =
        (n, handback) -> {
          if (GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(
              n.getType())) {
            var info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
            long used = 0;
            for (var e : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
              if (HEAP_POOLS.contains(e.getKey())) {
                used += e.getValue().getUsed();
              }
            }
            peak.accumulateAndGet(used, Math::max);
          }
        };
    List<GarbageCollectorMXBean> gcs = ManagementFactory.getGarbageCollectorMXBeans();
    for (GarbageCollectorMXBean gc : gcs) {
      ((NotificationEmitter) gc).addNotificationListener(listener, null, null);
    }
    var os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long cpu0 = os.getProcessCpuTime();
    long t0 = System.nanoTime();
    Object result;
    long retained;
    try {
      result = run.call();
      System.gc();
      retained = heapUsed();
      peak.accumulateAndGet(retained, Math::max);
    } finally {
      for (GarbageCollectorMXBean gc : gcs) {
        ((NotificationEmitter) gc).removeNotificationListener(listener);
      }
    }
    return new Measured(
        (System.nanoTime() - t0) / 1e9,
        (os.getProcessCpuTime() - cpu0) / 1e9,
        peak.get(),
        retained,
        result);
  }

  private static long heapUsed() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private static void print(String what, long rows, int cores, Measured m) {
    System.out.printf(
        Locale.ROOT,
        "%s: %d rows in %.1f s = %.0f rows/s per core; %.2f CPU s per 1,000 rows; peak live heap"
            + " after GC %d MiB; after a full GC at the end %d MiB; peak RSS so far %d MiB%n",
        what,
        rows,
        m.seconds(),
        rows / m.seconds() / cores,
        m.cpuSeconds() * 1000 / rows,
        m.peakLiveHeap() >> 20,
        m.retainedHeap() >> 20,
        peakRssMiB());
  }

  private static long peakRssMiB() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("\\D", "")) >> 10;
        }
      }
    } catch (java.io.IOException e) {
      return -1;
    }
    return -1;
  }

  private static long serializedSize(Object o) throws java.io.IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(o);
    }
    return bytes.size();
  }

  private static long size(Path dir) throws java.io.IOException {
    try (var files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }
}

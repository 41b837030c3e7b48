package io.quantguard.evaluate.bench;

import io.quantguard.onnx.CpuFeatures;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.ModelSummary;
import io.quantguard.onnx.RunEnvironment;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.data.DataSource;
import io.quantguard.runtime.data.DataSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Runs a {@link BenchPlan}. The steps, and why:
 *
 * <ol>
 *   <li>Read the fixed input batches of every batch size once (no data work in timed calls), and
 *       pay the runtime's one-time set-up with a throwaway one-node model ({@link RuntimePrimer}).
 *   <li>Per model, in turn: create its session (timed), warm it up at every batch size, and read
 *       RSS around both. Sessions are created one after another so each model's RSS growth is its
 *       own; with {@code isolate} memory is taken in a child JVM per model instead.
 *   <li>Per batch size: one unmeasured pass per model, then rounds. A round runs one trial of every
 *       model, interleaved (A B, B A, A B, ...: round-robin with the first position rotating), so
 *       slow drift of the machine (clock, neighbours, thermal) hits every model alike, and the
 *       ratio of two models' trial times within a round cancels it. A trial repeats the pass often
 *       enough to last at least {@code minTrialMillis} for the fastest model (counted from the last
 *       warm-up pass).
 *   <li>Create and close {@value #CREATIONS} more sessions per model, interleaved, so creation time
 *       is a median of warm figures rather than one cold one that depends on the model's place in
 *       the list (the cold one is reported too).
 *   <li>Summarize: per-call latency percentiles, throughput, and per round {@code T_model /
 *       T_first} with the median and its order-statistic interval ({@link RatioInterval}).
 * </ol>
 *
 * Sessions run one at a time, never concurrently, so two sessions' thread pools never compete for
 * the cores during a timed call.
 */
public final class Benchmark {
  private static final int MAX_PASSES_PER_TRIAL = 10_000;

  /** Sessions created per model, after the measurements, to time creation. */
  private static final int CREATIONS = 3;

  private static final String ORDER =
      "interleaved: one trial of each model per round, the first position rotating each round";
  private static final String TIMED_REGION =
      "one InferenceSession.run call: heap inputs copied to native tensors, inference, outputs"
          + " copied back to the heap";

  private final BenchPlan plan;
  private final Progress progress;

  /**
   * @param progress told how far each stage got ({@code data}, {@code memory}, {@code warm-up},
   *     {@code batch N}, {@code sessions}); {@link Progress#NONE} for silence
   */
  public Benchmark(BenchPlan plan, Progress progress) {
    this.plan = plan;
    this.progress = progress;
  }

  public BenchResult run() {
    String ortVersion = InferenceSession.runtimeVersion(); // loads the native library up front
    CpuFeatures cpu = CpuFeatures.detect();
    DataSource data = DataSpec.parse(plan.data());
    Map<Integer, InputBatches> inputs = new LinkedHashMap<>();
    for (int b : plan.batchSizes()) {
      progress.update("data", inputs.size(), plan.batchSizes().size());
      inputs.put(b, InputBatches.read(data, b, plan.maxSamplesPerPass()));
    }
    progress.update("data", inputs.size(), plan.batchSizes().size());
    List<String> labels = labels(plan.models());
    List<Long> sizes = new ArrayList<>();
    List<String> quantization = new ArrayList<>();
    for (BenchModel m : plan.models()) {
      ModelSummary s = ModelSummary.of(ModelIO.load(m.file()));
      sizes.add(sizeOnDisk(m.file(), s));
      quantization.add(s.quantization().quantized() ? s.quantization().scheme() : "no");
    }
    List<MemoryUse> isolated = new ArrayList<>();
    if (plan.isolate()) {
      for (int i = 0; i < plan.models().size(); i++) {
        progress.update("memory", i, plan.models().size());
        isolated.add(MemoryProbe.inChildJvm(plan.models().get(i), plan));
      }
      progress.update("memory", plan.models().size(), plan.models().size());
    }
    RuntimePrimer.prime(plan.session());
    long processPeak = -1;
    List<ModelRun> runs = new ArrayList<>();
    try {
      for (int i = 0; i < plan.models().size(); i++) {
        progress.update("warm-up", i, plan.models().size());
        processPeak = Math.max(processPeak, ResidentMemory.peak().orElse(-1));
        runs.add(
            ModelRun.open(
                labels.get(i),
                plan.models().get(i),
                plan.session(),
                inputs.values(),
                plan.warmupPasses(),
                "in-process"));
      }
      progress.update("warm-up", runs.size(), runs.size());
      Map<Integer, Integer> passes = new HashMap<>();
      for (InputBatches in : inputs.values()) {
        passes.put(in.batchSize(), passesPerTrial(runs, in.batchSize()));
        measure(runs, in, passes.get(in.batchSize()));
      }
      processPeak = Math.max(processPeak, ResidentMemory.peak().orElse(-1));
      int creations = CREATIONS * runs.size();
      for (int round = 0; round < CREATIONS; round++) {
        for (int k = 0; k < runs.size(); k++) {
          progress.update("sessions", round * runs.size() + k, creations);
          int i = (round + k) % runs.size();
          runs.get(i).timeCreation(plan.models().get(i), plan.session());
        }
      }
      progress.update("sessions", creations, creations);
      List<BenchResult.ModelResult> models = new ArrayList<>();
      for (int i = 0; i < runs.size(); i++) {
        ModelRun r = runs.get(i);
        List<BenchResult.BatchResult> batches = new ArrayList<>();
        for (InputBatches in : inputs.values()) {
          int n = Objects.requireNonNull(passes.get(in.batchSize()), "measured batch size");
          batches.add(batchResult(r, in, n));
        }
        models.add(
            new BenchResult.ModelResult(
                r.label(),
                plan.models().get(i).file().toString(),
                sizes.get(i),
                quantization.get(i),
                r.creationMs(),
                r.firstCreationMs(),
                plan.isolate() ? isolated.get(i) : r.memory(),
                List.copyOf(batches)));
      }
      List<BenchResult.Comparison> comparisons = new ArrayList<>();
      for (int i = 1; i < runs.size(); i++) {
        comparisons.add(compare(runs.get(i), models.get(i), runs.get(0), models.get(0)));
      }
      return new BenchResult(
          new BenchResult.Environment(
              cpu,
              RunEnvironment.current(ortVersion),
              plan.session(),
              plan.session().toString(),
              processPeak < 0 ? null : processPeak),
          new BenchResult.Settings(
              plan.data(),
              plan.batchSizes(),
              plan.warmupPasses(),
              plan.trials(),
              plan.durationSeconds(),
              plan.minTrialMillis(),
              plan.maxSamplesPerPass(),
              plan.confidence(),
              plan.isolate(),
              ORDER,
              TIMED_REGION),
          List.copyOf(models),
          List.copyOf(comparisons),
          List.of());
    } finally {
      for (ModelRun r : runs) {
        r.close();
      }
    }
  }

  /** Labels as given, made unique ({@code #2}, {@code #3}) when a model is listed twice. */
  private static List<String> labels(List<BenchModel> models) {
    Map<String, Integer> seen = new HashMap<>();
    List<String> out = new ArrayList<>();
    for (BenchModel m : models) {
      int n = seen.merge(m.label(), 1, Integer::sum);
      out.add(n == 1 ? m.label() : m.label() + " #" + n);
    }
    return out;
  }

  /** The model file plus the distinct external data files it names. */
  private static long sizeOnDisk(Path file, ModelSummary s) {
    try {
      long size = Files.size(file);
      for (String f : s.externalDataFiles()) {
        Path p = file.toAbsolutePath().resolveSibling(f);
        if (Files.isRegularFile(p)) {
          size += Files.size(p);
        }
      }
      return size;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * {@code ceil(minTrial / fastest warm-up pass)}, in [1, {@value #MAX_PASSES_PER_TRIAL}]; 1
   * without warm-up.
   */
  private int passesPerTrial(List<ModelRun> runs, int batchSize) {
    long fastest = Long.MAX_VALUE;
    for (ModelRun r : runs) {
      long t = r.warmPassNanos(batchSize);
      if (t > 0) {
        fastest = Math.min(fastest, t);
      }
    }
    if (fastest == Long.MAX_VALUE) {
      return 1;
    }
    double wanted = Math.ceil(plan.minTrialMillis() * 1e6 / fastest);
    return (int) Math.max(1, Math.min(MAX_PASSES_PER_TRIAL, wanted));
  }

  private void measure(List<ModelRun> runs, InputBatches in, int passes) {
    String stage = "batch " + in.batchSize();
    boolean timed = plan.durationSeconds() > 0;
    long total = timed ? (long) Math.ceil(plan.durationSeconds()) : plan.trials();
    progress.update(stage, 0, total);
    if (plan.warmupPasses() > 0) {
      for (ModelRun r : runs) {
        r.warm(in);
      }
    }
    // Collect the garbage of data loading and warm-up now rather than inside some timed call.
    System.gc();
    long start = System.nanoTime();
    long deadline = start + (long) (plan.durationSeconds() * 1e9);
    for (int round = 1; ; round++) {
      // Rotate who goes first (A B, B A, A B, ...): every model takes every position equally
      // often, so neither a linear drift nor an effect of running right after another model
      // (caches, the previous session's spinning threads) favours one of them.
      for (int k = 0; k < runs.size(); k++) {
        runs.get((round - 1 + k) % runs.size()).trial(in, passes);
      }
      long now = System.nanoTime();
      boolean done =
          timed ? round >= BenchPlan.MIN_ROUNDS && now >= deadline : round >= plan.trials();
      if (done) {
        progress.update(stage, total, total);
        break;
      }
      progress.update(
          stage, timed ? Math.min(total - 1, (now - start) / 1_000_000_000L) : round, total);
    }
  }

  private static BenchResult.BatchResult batchResult(ModelRun r, InputBatches in, int passes) {
    LatencyHistogram h = r.latency(in.batchSize());
    double seconds = h.sumNanos() / 1e9;
    return new BenchResult.BatchResult(
        in.batchSize(),
        in.feeds().size(),
        passes,
        r.trialNanos(in.batchSize()).size(),
        h.stats(),
        h.meanNanos() / 1e6 / in.batchSize(),
        seconds > 0 ? in.batchSize() * h.count() / seconds : Double.NaN);
  }

  private BenchResult.Comparison compare(
      ModelRun run, BenchResult.ModelResult model, ModelRun baseRun, BenchResult.ModelResult base) {
    List<BenchResult.BatchComparison> batches = new ArrayList<>();
    for (int i = 0; i < model.batches().size(); i++) {
      BenchResult.BatchResult m = model.batches().get(i);
      BenchResult.BatchResult b = base.batches().get(i);
      List<Long> tm = run.trialNanos(m.batchSize());
      List<Long> tb = baseRun.trialNanos(m.batchSize());
      double[] ratio = new double[tm.size()];
      double[] speedup = new double[tm.size()];
      List<Double> rounds = new ArrayList<>();
      for (int k = 0; k < ratio.length; k++) {
        ratio[k] = (double) tm.get(k) / tb.get(k);
        speedup[k] = 1 / ratio[k];
        rounds.add(ratio[k]);
      }
      batches.add(
          new BenchResult.BatchComparison(
              m.batchSize(),
              RatioInterval.ofMedian(ratio, plan.confidence()),
              RatioInterval.ofMedian(speedup, plan.confidence()),
              m.latency().p50Ms() / b.latency().p50Ms(),
              m.latency().p95Ms() / b.latency().p95Ms(),
              m.latency().p99Ms() / b.latency().p99Ms(),
              m.throughput() / b.throughput(),
              List.copyOf(rounds)));
    }
    Long gm = model.memory().peakGrowth();
    Long gb = base.memory().peakGrowth();
    return new BenchResult.Comparison(
        model.label(),
        base.label(),
        (double) model.sizeOnDisk() / base.sizeOnDisk(),
        model.sessionCreationMs() / base.sessionCreationMs(),
        gm == null || gb == null || gb <= 0 ? null : (double) gm / gb,
        List.copyOf(batches));
  }
}

package io.quantguard.evaluate.bench;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import io.quantguard.onnx.CpuFeatures;
import io.quantguard.onnx.RunEnvironment;
import io.quantguard.runtime.SessionConfig;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Everything one benchmark run measured, ready to print as a table ({@link BenchTable}) or
 * serialize as JSON (plain records: Jackson writes them as they are).
 *
 * @param environment where it ran
 * @param settings how it ran
 * @param models per-model figures, in the order given (the first is the baseline)
 * @param comparisons every model after the first, against the first
 * @param profiles time per operator type and node by ONNX Runtime's profiler, per batch size and
 *     model ({@link OperatorProfiler}); empty unless asked for
 */
public record BenchResult(
    Environment environment,
    Settings settings,
    List<ModelResult> models,
    List<Comparison> comparisons,
    List<OperatorProfile> profiles) {

  public BenchResult {
    models = List.copyOf(models);
    comparisons = List.copyOf(comparisons);
    profiles = List.copyOf(profiles);
  }

  /** The same result with operator profiles. */
  public BenchResult withProfiles(List<OperatorProfile> measured) {
    return new BenchResult(environment, settings, models, comparisons, measured);
  }

  /**
   * The machine and runtime.
   *
   * @param cpu the CPU and the instruction sets that decide the int8 gain
   * @param run versions, OS and CPU count, written into this object's JSON (not nested), as every
   *     other QuantGuard output records them
   * @param processPeakRss the whole process's peak RSS during the run (bytes, {@code VmHWM}), or
   *     null where unknown
   */
  public record Environment(
      CpuFeatures cpu,
      @JsonUnwrapped RunEnvironment run,
      SessionConfig session,
      String sessionOptions,
      @Nullable Long processPeakRss) {}

  /**
   * How the run was done, so a reader can judge the figures.
   *
   * @param timedRegion what one timed call covers
   * @param order how models take turns
   */
  public record Settings(
      String data,
      List<Integer> batchSizes,
      int warmupPasses,
      int trials,
      double durationSeconds,
      double minTrialMillis,
      int maxSamplesPerPass,
      double confidence,
      boolean isolate,
      String order,
      String timedRegion) {}

  /**
   * One model.
   *
   * @param sizeOnDisk bytes of the model file plus its external data files
   * @param quantization how the model is quantized, read from its graph ("no" for FP32)
   * @param sessionCreationMs wall time to create the ONNX Runtime session from the file: the median
   *     of three creations after the first
   * @param firstSessionCreationMs the first creation, before the model's warm-up (colder, and
   *     colder still for the first model)
   */
  public record ModelResult(
      String label,
      String file,
      long sizeOnDisk,
      String quantization,
      double sessionCreationMs,
      double firstSessionCreationMs,
      MemoryUse memory,
      List<BatchResult> batches) {}

  /**
   * One model at one batch size.
   *
   * <p>{@code throughput = batchSize × calls / Σ latency} (samples per second of inference time);
   * {@code perSampleMs = mean latency / batchSize}, so {@code throughput = 1000 / perSampleMs}.
   *
   * @param batchesPerPass distinct fixed batches fed in each pass
   * @param passesPerTrial passes in one trial
   * @param trials trials (= rounds) measured
   * @param latency latency of one call (one batch)
   */
  public record BatchResult(
      int batchSize,
      int batchesPerPass,
      int passesPerTrial,
      int trials,
      LatencyStats latency,
      double perSampleMs,
      double throughput) {}

  /**
   * A model against the baseline (the first model). Ratios are {@code model / baseline}.
   *
   * @param memoryRatio ratio of peak RSS growth, null where unknown
   */
  public record Comparison(
      String model,
      String baseline,
      double sizeRatio,
      double sessionCreationRatio,
      @Nullable Double memoryRatio,
      List<BatchComparison> batches) {}

  /**
   * A model against the baseline at one batch size.
   *
   * <p>{@code roundRatios[i] = T_model(i) / T_baseline(i)}, where {@code T(i)} is the time of round
   * {@code i}'s trial (same inputs, same number of calls); {@code timeRatio} is their median with
   * its interval (see {@link RatioInterval}) and {@code speedup} the same for {@code T_baseline(i)
   * / T_model(i)}, so a speed-up of 3 means three times as fast.
   */
  public record BatchComparison(
      int batchSize,
      RatioInterval timeRatio,
      RatioInterval speedup,
      double p50Ratio,
      double p95Ratio,
      double p99Ratio,
      double throughputRatio,
      List<Double> roundRatios) {}
}

package io.quantguard.report;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.quantguard.onnx.RunEnvironment;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Everything one evaluation found, in the shape {@code report.json} has (field names are the
 * documented, stable schema {@value #SCHEMA}; see {@code quantguard-report/REPORT.md}). The
 * baseline is always the first model.
 *
 * @param tool where the evaluation ran: QuantGuard and ONNX Runtime versions, Java, OS, CPU
 * @param calibrationCoverage only from an evaluation with calibration ranges; absent otherwise
 */
public record EvaluationReport(
    String schema,
    RunEnvironment tool,
    TaskInfo task,
    List<DataInfo> data,
    Settings settings,
    List<ModelReport> models,
    Hygiene hygiene,
    @Nullable Long peakRssBytes,
    List<String> warnings,
    @JsonInclude(JsonInclude.Include.NON_NULL) @Nullable CalibrationCoverage calibrationCoverage) {

  public static final String SCHEMA = "quantguard.evaluate/1";

  public EvaluationReport {
    data = List.copyOf(data);
    models = List.copyOf(models);
    warnings = List.copyOf(warnings);
  }

  public ModelReport baseline() {
    return models.get(0);
  }

  public List<ModelReport> candidates() {
    return models.subList(1, models.size());
  }

  public Optional<ModelReport> model(String name) {
    return models.stream().filter(m -> m.name().equals(name)).findFirst();
  }

  /** The report as a policy reads it: every candidate's metrics, figures and cost. */
  public Measurements measurements() {
    return new ReportMeasurements(this);
  }

  /** The task as specified ({@code classification?k=5}) and its name. */
  public record TaskInfo(String name, String spec) {}

  /** One data set: its name (slice {@code data=name}), spec and the samples evaluated. */
  public record DataInfo(String name, String spec, long samples) {}

  /** How the run was set up. */
  public record Settings(
      int batchSize,
      int bootstrapResamples,
      double confidence,
      long seed,
      String session,
      List<String> sliceBy,
      double wattsPerCore,
      @JsonInclude(JsonInclude.Include.NON_NULL) @Nullable String bootstrapResampling) {

    /** Settings of a run with the default (multinomial) bootstrap. */
    public Settings(
        int batchSize,
        int bootstrapResamples,
        double confidence,
        long seed,
        String session,
        List<String> sliceBy,
        double wattsPerCore) {
      this(batchSize, bootstrapResamples, confidence, seed, session, sliceBy, wattsPerCore, null);
    }
  }

  /**
   * One model's results.
   *
   * @param role {@code baseline} or {@code candidate}
   * @param slices results per slice; the first is {@code all}
   * @param worstSlice the slice where this candidate does worst (null for the baseline or without
   *     slices)
   */
  public record ModelReport(
      String name,
      String role,
      String file,
      long sizeBytes,
      List<SliceResult> slices,
      @Nullable WorstSlice worstSlice,
      Cost cost,
      Verdict verdict) {

    public SliceResult all() {
      return slices.get(0);
    }

    public Optional<SliceResult> slice(String name) {
      return slices.stream().filter(s -> s.slice().equals(name)).findFirst();
    }
  }

  /** A task result on one slice. */
  public record SliceResult(
      String slice,
      long samples,
      List<MetricEstimate> metrics,
      Map<String, Double> figures,
      @Nullable ClassificationDetail classification) {

    public static SliceResult of(String slice, TaskResult r) {
      return new SliceResult(slice, r.samples(), r.metrics(), r.figures(), r.classification());
    }

    public Optional<MetricEstimate> metric(String name) {
      return metrics.stream().filter(m -> m.name().equals(name)).findFirst();
    }
  }

  /**
   * The slice with the worst primary metric: the most harmful difference to the baseline, or for
   * metrics that already compare with the baseline, the worst value.
   */
  public record WorstSlice(
      String slice, long samples, String metric, @Nullable Double value, @Nullable Double delta) {}

  /**
   * Cost of running the model during the evaluation.
   *
   * @param throughput samples per second of model time
   * @param cpuSeconds process CPU time while this model ran (all threads)
   * @param loadRssBytes resident memory the process grew by while opening the session and running
   *     it once (an estimate of the model's own footprint)
   */
  public record Cost(
      Latency latency, double throughput, double cpuSeconds, Energy energy, long loadRssBytes) {}

  /**
   * Latency per batch in milliseconds, from an HdrHistogram (3 significant digits).
   *
   * @param cdf pairs [milliseconds, percentile] for plotting the distribution
   */
  public record Latency(
      int batchSize,
      long batches,
      double mean,
      double p50,
      double p90,
      double p95,
      double p99,
      double max,
      double perSampleMean,
      List<double[]> cdf) {}

  /**
   * Energy while the model ran.
   *
   * @param method {@code rapl} (measured from Intel RAPL package counters) or {@code estimate} (CPU
   *     seconds × {@code wattsPerCore}, declared, not measured)
   */
  public record Energy(
      String method,
      double joules,
      double joulesPerSample,
      @Nullable Double wattsPerCore,
      String note) {}

  /** Exact duplicate inputs (see {@code InputHashes}). */
  public record Hygiene(
      long testSamples,
      long distinctTestInputs,
      long duplicateTestSamples,
      long calibrationSamples,
      long testSamplesInCalibration,
      List<String> examples) {}

  /**
   * The summary at the top of every report.
   *
   * @param outcome {@code baseline}, {@code significantly_worse}, {@code significantly_better},
   *     {@code no_significant_difference} or {@code not_judged} (the task has no labels to judge
   *     by: only agreement with the baseline is reported)
   */
  public record Verdict(String outcome, String summary) {}
}

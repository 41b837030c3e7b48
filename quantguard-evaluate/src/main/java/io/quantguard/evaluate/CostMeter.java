package io.quantguard.evaluate;

import io.quantguard.report.EvaluationReport;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * Latency, throughput, CPU time and energy of one model, measured around each of its batch runs in
 * the paired evaluation (the same batches for every model). Latency goes into an HdrHistogram with
 * 3 significant digits, so memory stays fixed however many batches run.
 */
final class CostMeter implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  private static final double[] CDF_PERCENTILES = {
    0, 1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.9, 100
  };

  private final Histogram latency = new Histogram(3);
  private long samples;
  private long nanos;
  private long cpuNanos;
  private double joules;
  private int maxBatch;

  void record(int batchSize, long elapsedNanos, long cpu, double energyJoules) {
    latency.recordValue(Math.max(1, elapsedNanos));
    samples += batchSize;
    nanos += elapsedNanos;
    cpuNanos += Math.max(0, cpu);
    joules += energyJoules;
    maxBatch = Math.max(maxBatch, batchSize);
  }

  /** Folds in the runs another meter recorded (HdrHistogram counts add up exactly). */
  void merge(CostMeter other) {
    latency.add(other.latency);
    samples += other.samples;
    nanos += other.nanos;
    cpuNanos += other.cpuNanos;
    joules += other.joules;
    maxBatch = Math.max(maxBatch, other.maxBatch);
  }

  EvaluationReport.Cost cost(boolean rapl, double wattsPerCore, long loadRssBytes) {
    double cpuSeconds = cpuNanos / 1e9;
    EvaluationReport.Energy energy;
    if (rapl) {
      energy =
          new EvaluationReport.Energy(
              "rapl",
              joules,
              samples == 0 ? 0 : joules / samples,
              null,
              "measured: Intel RAPL package counters while this model ran (whole package)");
    } else {
      double j = cpuSeconds * wattsPerCore;
      energy =
          new EvaluationReport.Energy(
              "estimate",
              j,
              samples == 0 ? 0 : j / samples,
              wattsPerCore,
              "estimate, not measured: process CPU seconds × "
                  + wattsPerCore
                  + " W per busy core (declared); RAPL counters were not readable");
    }
    List<double[]> cdf = new ArrayList<>();
    if (latency.getTotalCount() > 0) {
      for (double p : CDF_PERCENTILES) {
        cdf.add(new double[] {ms(latency.getValueAtPercentile(p)), p});
      }
    }
    long batches = latency.getTotalCount();
    EvaluationReport.Latency lat =
        new EvaluationReport.Latency(
            maxBatch,
            batches,
            batches == 0 ? 0 : latency.getMean() / 1e6,
            ms(latency.getValueAtPercentile(50)),
            ms(latency.getValueAtPercentile(90)),
            ms(latency.getValueAtPercentile(95)),
            ms(latency.getValueAtPercentile(99)),
            ms(latency.getMaxValue()),
            samples == 0 ? 0 : nanos / 1e6 / samples,
            cdf);
    return new EvaluationReport.Cost(
        lat, nanos == 0 ? 0 : samples / (nanos / 1e9), cpuSeconds, energy, loadRssBytes);
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }
}

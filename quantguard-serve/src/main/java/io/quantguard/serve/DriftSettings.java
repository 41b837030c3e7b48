package io.quantguard.serve;

import io.quantguard.evaluate.drift.DriftTests;
import io.quantguard.onnx.InvalidInputException;
import java.time.Duration;

/**
 * How a server watches a model's traffic for drift and calibration-range overflow.
 *
 * @param sampleShare the share of requests whose inputs and outputs enter the drift window (0 to 1;
 *     1 = every request), chosen deterministically (request n is taken when ⌊(n + 1)·s⌋ &gt;
 *     ⌊n·s⌋), so a share s takes exactly s of the requests
 * @param overflowShare the share of requests run once more through the FP32 model with the
 *     calibrated tensors exposed, to count the activations the quantized model clips (0 to 1; this
 *     costs one FP32 run per sampled request, off the request path)
 * @param interval how often the window is closed, compared with the reference and started anew
 * @param queue sampled requests that may wait for the drift worker; beyond it they are dropped and
 *     counted ({@code quantguard_drift_samples_dropped_total}), never waited for
 * @param history closed windows kept for the attribution (which drift went with a quality drop)
 * @param maxTensorGauges calibrated tensors that get an overflow-rate gauge of their own (the first
 *     in graph order), which bounds the metric's label set for large models
 * @param tests which comparison decides whether a feature drifted, and where its line is
 */
public record DriftSettings(
    double sampleShare,
    double overflowShare,
    Duration interval,
    int queue,
    int history,
    int maxTensorGauges,
    DriftTests tests) {

  public DriftSettings {
    if (!(sampleShare > 0 && sampleShare <= 1)) {
      throw InvalidInputException.forParameter(
          "drift.sampleShare", sampleShare, "must be above 0 and at most 1", "e.g. 0.1 or 1");
    }
    if (!(overflowShare >= 0 && overflowShare <= 1)) {
      throw InvalidInputException.forParameter(
          "drift.overflowShare", overflowShare, "must be 0 to 1", "e.g. 0.05; 0 turns it off");
    }
    if (interval.isNegative() || interval.isZero()) {
      throw InvalidInputException.forParameter(
          "drift.interval", interval, "must be positive", "e.g. 60 s");
    }
    if (queue < 1 || history < 3 || maxTensorGauges < 0) {
      throw InvalidInputException.forParameter(
          "drift.queue/history/maxTensorGauges",
          queue + "/" + history + "/" + maxTensorGauges,
          "need a queue of at least 1, a history of at least 3 windows (attribution ranks over"
              + " three or more) and no negative gauge count",
          "e.g. 256, 30, 64");
    }
  }

  /**
   * Every request into the window, 5 % through the overflow probe, a window a minute, 256 waiting
   * samples, 30 windows of history, 64 tensor gauges, Evidently's default tests.
   */
  public static DriftSettings defaults() {
    return new DriftSettings(1, 0.05, Duration.ofMinutes(1), 256, 30, 64, DriftTests.defaults());
  }

  public DriftSettings withSampleShare(double s) {
    return new DriftSettings(s, overflowShare, interval, queue, history, maxTensorGauges, tests);
  }

  public DriftSettings withOverflowShare(double s) {
    return new DriftSettings(sampleShare, s, interval, queue, history, maxTensorGauges, tests);
  }

  public DriftSettings withInterval(Duration d) {
    return new DriftSettings(sampleShare, overflowShare, d, queue, history, maxTensorGauges, tests);
  }

  public DriftSettings withHistory(int windows) {
    return new DriftSettings(
        sampleShare, overflowShare, interval, queue, windows, maxTensorGauges, tests);
  }
}

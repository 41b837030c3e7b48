package io.quantguard.serve;

import io.quantguard.onnx.InvalidInputException;
import java.time.Duration;

/**
 * How a server keeps a model within its {@link LatencyObjective} by switching variants (see {@link
 * VariantSelector}), and the hysteresis that keeps it from flapping.
 *
 * @param objective the latency the model's answers must keep
 * @param window how often the latency of the variant answering is judged
 * @param minSamples answered requests a window needs to count as load; a quieter window counts as
 *     load having fallen
 * @param patience consecutive windows that must agree before a switch
 * @param dwell the least time between two switches
 * @param exitShare switch back to a slower variant only when the request rate is at most this share
 *     of the rate at which it broke the objective, and its latency, predicted from the one measured
 *     now scaled by the variants' probe ratio, at most this share of the objective (below 1: the
 *     exit thresholds sit below the entry ones)
 */
public record AdaptiveSettings(
    LatencyObjective objective,
    Duration window,
    int minSamples,
    int patience,
    Duration dwell,
    double exitShare) {

  public AdaptiveSettings {
    if (window.isNegative() || window.isZero()) {
      throw bad("adaptive.window", window, "must be positive", "e.g. 1 s");
    }
    if (minSamples < 1) {
      throw bad("adaptive.minSamples", minSamples, "must be at least 1", "e.g. 50");
    }
    if (patience < 1) {
      throw bad("adaptive.patience", patience, "must be at least 1 window", "e.g. 2");
    }
    if (dwell.isNegative()) {
      throw bad("adaptive.dwell", dwell, "must not be negative", "e.g. 10 s");
    }
    if (!(exitShare > 0 && exitShare < 1)) {
      throw bad(
          "adaptive.exitShare",
          exitShare,
          "must lie between 0 and 1 (exclusive) to separate the exit from the entry threshold",
          "e.g. 0.6");
    }
  }

  /** One-second windows of at least 50 requests, 2 windows to agree, 10 s dwell, exit at 60 %. */
  public static AdaptiveSettings of(LatencyObjective objective) {
    return new AdaptiveSettings(
        objective, Duration.ofSeconds(1), 50, 2, Duration.ofSeconds(10), 0.6);
  }

  public AdaptiveSettings withWindow(Duration w) {
    return new AdaptiveSettings(objective, w, minSamples, patience, dwell, exitShare);
  }

  public AdaptiveSettings withMinSamples(int n) {
    return new AdaptiveSettings(objective, window, n, patience, dwell, exitShare);
  }

  public AdaptiveSettings withPatience(int n) {
    return new AdaptiveSettings(objective, window, minSamples, n, dwell, exitShare);
  }

  public AdaptiveSettings withDwell(Duration d) {
    return new AdaptiveSettings(objective, window, minSamples, patience, d, exitShare);
  }

  public AdaptiveSettings withExitShare(double s) {
    return new AdaptiveSettings(objective, window, minSamples, patience, dwell, s);
  }

  private static InvalidInputException bad(String key, Object value, String problem, String fix) {
    return InvalidInputException.forParameter(key, value, problem, fix);
  }
}

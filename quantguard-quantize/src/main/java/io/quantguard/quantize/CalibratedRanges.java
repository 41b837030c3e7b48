package io.quantguard.quantize;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Activation ranges from calibration statistics: each group's members merged, then the range its
 * calibrator chooses (min/max, percentile, entropy, MSE); a group holding SmoothQuant outputs
 * (whose histograms were never observed) takes their per-channel extremes instead.
 */
final class CalibratedRanges implements ActivationRanges {
  private final Map<String, TensorStatistics> stats;
  private final SmoothQuant.Result smoothing;

  CalibratedRanges(Map<String, TensorStatistics> stats, SmoothQuant.Result smoothing) {
    this.stats = stats;
    this.smoothing = smoothing;
  }

  @Override
  public QuantParams params(QdqPlan.Group group) {
    ActivationSettings spec = group.settings();
    TensorStatistics merged = new TensorStatistics(group.anchor());
    for (String m : group.members()) {
      TensorStatistics s = stats.get(m);
      if (s != null) {
        merged.merge(s);
      }
    }
    Scheme scheme = spec.scheme();
    Range smoothed = smoothedRange(group.members(), merged);
    return scheme.params(smoothed != null ? smoothed : spec.calibrator().range(merged, scheme));
  }

  /**
   * The min/max range of a group holding SmoothQuant outputs, widened by the observed range of its
   * other members; null for other groups.
   */
  private @Nullable Range smoothedRange(List<String> members, TensorStatistics merged) {
    Range r = merged.isEmpty() ? null : merged.range();
    boolean any = false;
    for (String m : members) {
      SmoothQuant.Smoothed s = smoothing.tensors().get(m);
      if (s != null) {
        any = true;
        r =
            r == null
                ? s.range()
                : new Range(Math.min(r.min(), s.range().min()), Math.max(r.max(), s.range().max()));
      }
    }
    return any ? r : null;
  }
}

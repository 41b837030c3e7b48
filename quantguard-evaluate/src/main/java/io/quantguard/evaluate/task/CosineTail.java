package io.quantguard.evaluate.task;

import io.quantguard.report.MetricSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The low tail of the per-sample cosines to the baseline: a model can keep a high mean cosine while
 * a few percent of the samples (text unlike the calibration data, say) collapse. The 0.1st, 1st and
 * 5th percentiles ({@code cosine_p0_1}, {@code cosine_p1}, {@code cosine_p5}; type 7, within the
 * precision of {@link CosineHistogram}) and the share of samples below 0.99, 0.98 and 0.95 ({@code
 * cosine_below_0_99}, ...), computed by the embedding task's {@link AgreementCounts}.
 *
 * <p>Public for the server's live paired comparison, which reports the same tail of the cosines of
 * one window ({@link #of}) under the same names, with the same maths, so one policy judges both.
 */
public final class CosineTail {
  private CosineTail() {}

  /** The tail's metrics, in the order {@link #of} lists them. */
  public static List<MetricSpec> metrics() {
    return AgreementCounts.tailMetrics();
  }

  /**
   * The tail of {@code cosines[0..n)}, each counted once, by metric name in the order of {@link
   * #metrics}; NaN values when {@code n} is 0.
   */
  public static Map<String, Double> of(float[] cosines, int n) {
    AgreementCounts counts = new AgreementCounts();
    for (int i = 0; i < n; i++) {
      counts.add(cosines[i], 0, 0, 1);
    }
    List<MetricSpec> all = AgreementCounts.metrics();
    double[] values = new double[all.size()];
    counts.values(values);
    Map<String, Double> tail = new LinkedHashMap<>();
    int at = all.size() - metrics().size();
    for (MetricSpec m : metrics()) {
      tail.put(m.name(), values[at++]);
    }
    return tail;
  }
}

package io.quantguard.evaluate.task;

import io.quantguard.report.MetricSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The low tail of the per-sample cosines to the baseline: a model can keep a high mean cosine while
 * a few percent of the samples (text unlike the calibration data, say) collapse. Reports the 0.1st,
 * 1st and 5th percentiles ({@code cosine_p0_1}, {@code cosine_p1}, {@code cosine_p5}; type 7, as
 * the figures) and the share of samples below 0.99, 0.98 and 0.95 ({@code cosine_below_0_99}, ...),
 * each on any bootstrap resample.
 *
 * <p>A resample is a multiset of rows, so a percentile of it is a percentile of the rows repeated
 * by their weights. The rows are sorted by cosine once; each resample walks that order only as far
 * as the highest percentile and the highest threshold reach.
 *
 * <p>Public for the server's live paired comparison, which reports the same tail of the cosines of
 * one window ({@link #of}) under the same names, so one policy judges both.
 */
public final class CosineTail {
  static final double[] PERCENTILES = {0.001, 0.01, 0.05};
  static final double[] THRESHOLDS = {0.99, 0.98, 0.95};

  /** Row indices, lowest cosine first (NaN last). */
  private final int[] order;

  private final float[] sorted;

  /** How many sorted rows lie below each threshold. */
  private final int[] below;

  CosineTail(FloatColumn cosine) {
    int n = cosine.size();
    order =
        IntStream.range(0, n)
            .boxed()
            .sorted((a, b) -> Float.compare(cosine.get(a), cosine.get(b)))
            .mapToInt(Integer::intValue)
            .toArray();
    sorted = new float[n];
    for (int i = 0; i < n; i++) {
      sorted[i] = cosine.get(order[i]);
    }
    below = new int[THRESHOLDS.length];
    for (int t = 0; t < THRESHOLDS.length; t++) {
      int k = 0;
      while (k < n && sorted[k] < THRESHOLDS[t]) {
        k++;
      }
      below[t] = k;
    }
  }

  /**
   * The tail of {@code cosines[0..n)}, each counted once, by metric name in the order of {@link
   * #metrics}; NaN values when {@code n} is 0.
   */
  public static Map<String, Double> of(float[] cosines, int n) {
    FloatColumn column = new FloatColumn();
    for (int i = 0; i < n; i++) {
      column.add(cosines[i]);
    }
    int[] once = new int[n];
    java.util.Arrays.fill(once, 1);
    List<MetricSpec> specs = metrics();
    double[] out = new double[specs.size()];
    new CosineTail(column).evaluate(once, out, 0);
    Map<String, Double> tail = new LinkedHashMap<>();
    for (int i = 0; i < out.length; i++) {
      tail.put(specs.get(i).name(), out[i]);
    }
    return tail;
  }

  /** The tail's metrics, in the order {@link #evaluate} fills them. */
  public static List<MetricSpec> metrics() {
    List<MetricSpec> out = new ArrayList<>();
    for (double p : PERCENTILES) {
      out.add(MetricSpec.againstBaseline(percentileName(p), true));
    }
    for (double t : THRESHOLDS) {
      out.add(MetricSpec.againstBaseline(belowName(t), false));
    }
    return out;
  }

  /** {@code cosine_p0_1} for the 0.1st percentile, {@code cosine_p1} for the 1st. */
  static String percentileName(double p) {
    return "cosine_p" + decimal(p * 100);
  }

  /** {@code cosine_below_0_98} for the share below 0.98. */
  static String belowName(double threshold) {
    return "cosine_below_" + decimal(threshold);
  }

  private static String decimal(double v) {
    String s = String.format(Locale.ROOT, "%.4f", v).replaceFirst("\\.?0+$", "");
    return s.replace('.', '_');
  }

  /**
   * Fills {@code out[at...]} with the tail of the multiset that holds row i {@code w[i]} times; NaN
   * when it is empty.
   */
  void evaluate(int[] w, double[] out, int at) {
    long total = 0;
    for (int wi : w) {
      total += wi;
    }
    int k = PERCENTILES.length;
    if (total == 0) {
      for (int j = 0; j < k + THRESHOLDS.length; j++) {
        out[at + j] = Double.NaN;
      }
      return;
    }
    // Expanded positions each percentile needs: ⌊h⌋ and ⌊h⌋ + 1, h = (N − 1)p (type 7).
    double[] h = new double[k];
    long[] lo = new long[k];
    double[] loValue = new double[k];
    double[] hiValue = new double[k];
    boolean[] loFound = new boolean[k];
    boolean[] hiFound = new boolean[k];
    for (int j = 0; j < k; j++) {
      h[j] = (total - 1) * PERCENTILES[j];
      lo[j] = (long) Math.floor(h[j]);
    }
    long[] countBelow = new long[THRESHOLDS.length];
    int reach = 0;
    for (int b : below) {
      reach = Math.max(reach, b);
    }
    long cum = 0;
    int pending = k;
    for (int i = 0; i < sorted.length && (i < reach || pending > 0); i++) {
      int wi = w[order[i]];
      if (wi == 0) {
        continue;
      }
      cum += wi;
      for (int t = 0; t < THRESHOLDS.length; t++) {
        if (i < below[t]) {
          countBelow[t] += wi;
        }
      }
      for (int j = 0; j < k; j++) {
        // The expanded multiset's position p holds the first sorted value whose cum exceeds p.
        if (!loFound[j] && cum > lo[j]) {
          loFound[j] = true;
          loValue[j] = sorted[i];
        }
        if (!hiFound[j] && cum > Math.min(total - 1, lo[j] + 1)) {
          hiFound[j] = true;
          hiValue[j] = sorted[i];
          pending--;
        }
      }
    }
    for (int j = 0; j < k; j++) {
      out[at + j] = loValue[j] + (h[j] - lo[j]) * (hiValue[j] - loValue[j]);
    }
    for (int t = 0; t < THRESHOLDS.length; t++) {
      out[at + k + t] = (double) countBelow[t] / total;
    }
  }
}

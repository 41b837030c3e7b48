package io.quantguard.evaluate.task;

import io.quantguard.evaluate.TensorAgreement;
import io.quantguard.report.MetricSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The sufficient statistics of the embedding task's headline metrics on one weighting of the rows
 * (all ones: the data as it is; Poisson or multinomial counts: a bootstrap replicate): the summed
 * weight, exact sums of cosine, signal energy and noise energy ({@link FixedSum}), the weight below
 * each threshold, and the cosines' {@link CosineHistogram}. The mean cosine, the pooled SQNR, the
 * low tail's percentiles and the shares below the thresholds follow from it alone, so a state has a
 * fixed bound whatever the row count, and any split of the rows merged in any order gives it bit
 * for bit.
 *
 * <p>The tail: a model can keep a high mean cosine while a few percent of the samples (text unlike
 * the calibration data, say) collapse. Reported are the 0.1st, 1st and 5th percentiles ({@code
 * cosine_p0_1}, {@code cosine_p1}, {@code cosine_p5}; type 7, within the histogram's precision) and
 * the share of samples below 0.99, 0.98 and 0.95 ({@code cosine_below_0_99}, ...; exact).
 */
final class AgreementCounts implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  static final double[] PERCENTILES = {0.001, 0.01, 0.05};
  static final double[] THRESHOLDS = {0.99, 0.98, 0.95};

  private long rows;
  private final FixedSum cosine = new FixedSum();
  private final FixedSum signal = new FixedSum();
  private final FixedSum noise = new FixedSum();
  private final long[] below = new long[THRESHOLDS.length];
  private final CosineHistogram histogram = new CosineHistogram();

  /** Adds {@code w} copies of a row with this cosine, signal energy and noise energy. */
  void add(float cos, float signalEnergy, float noiseEnergy, long w) {
    rows += w;
    cosine.add(cos, w);
    signal.add(signalEnergy, w);
    noise.add(noiseEnergy, w);
    for (int t = 0; t < THRESHOLDS.length; t++) {
      if (cos < THRESHOLDS[t]) {
        below[t] += w;
      }
    }
    histogram.add(cos, w);
  }

  void merge(AgreementCounts o) {
    rows += o.rows;
    cosine.merge(o.cosine);
    signal.merge(o.signal);
    noise.merge(o.noise);
    for (int t = 0; t < THRESHOLDS.length; t++) {
      below[t] += o.below[t];
    }
    histogram.merge(o.histogram);
  }

  /** The summed weight. */
  long rows() {
    return rows;
  }

  /**
   * The metrics, in the order {@link #values} fills them (mean, SQNR, then the {@link #tailMetrics
   * tail}); all compare with the baseline.
   */
  static List<MetricSpec> metrics() {
    List<MetricSpec> out = new ArrayList<>();
    out.add(MetricSpec.againstBaseline("cosine_mean", true));
    out.add(MetricSpec.againstBaseline("sqnr_db", true));
    out.addAll(tailMetrics());
    return out;
  }

  /** The cosine's low tail: the percentiles, then the shares below the thresholds. */
  static List<MetricSpec> tailMetrics() {
    List<MetricSpec> out = new ArrayList<>();
    for (double p : PERCENTILES) {
      out.add(MetricSpec.againstBaseline(percentileName(p), true));
    }
    for (double t : THRESHOLDS) {
      out.add(MetricSpec.againstBaseline(belowName(t), false));
    }
    return out;
  }

  /** Fills {@code out} with the {@link #metrics}; NaN where there are no rows. */
  void values(double[] out) {
    out[0] = rows == 0 ? Double.NaN : cosine.value() / rows;
    out[1] = TensorAgreement.sqnrDb(signal.value(), noise.value());
    int at = 2;
    for (double p : PERCENTILES) {
      out[at++] = histogram.percentile(p);
    }
    for (long b : below) {
      out[at++] = rows == 0 ? Double.NaN : (double) b / rows;
    }
  }

  /** The exact lowest cosine. */
  double lowest() {
    return histogram.lowest();
  }

  /** A type-7 percentile of the cosines, within the histogram's precision. */
  double percentile(double p) {
    return histogram.percentile(p);
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
}

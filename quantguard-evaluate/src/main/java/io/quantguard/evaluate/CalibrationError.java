package io.quantguard.evaluate;

import io.quantguard.report.ReliabilityBin;
import java.util.ArrayList;
import java.util.List;

/**
 * Expected calibration error (ECE): how far a classifier's confidence is from its accuracy.
 * Predictions are put in M equal-width bins by confidence (the top class's probability), bin m
 * holding confidences in ((m − 1)/M, m/M]; then
 *
 * <pre>
 * ECE = Σ<sub>m</sub> (|B<sub>m</sub>| / n) · |acc(B<sub>m</sub>) − conf(B<sub>m</sub>)|
 *     = Σ<sub>m</sub> |Σ<sub>i∈B<sub>m</sub></sub> correct<sub>i</sub> − Σ<sub>i∈B<sub>m</sub></sub> conf<sub>i</sub>| / n
 * </pre>
 *
 * with M = 15 as in Guo, Pleiss, Sun and Weinberger, "On Calibration of Modern Neural Networks",
 * ICML 2017 (after Naeini, Cooper and Hauskrecht, AAAI 2015). Mergeable: bins add up.
 */
public final class CalibrationError {
  /** The bin count of Guo et al. */
  public static final int BINS = 15;

  private final long[] count = new long[BINS];
  private final double[] confidence = new double[BINS];
  private final long[] correct = new long[BINS];

  /** The bin of a confidence: ⌈conf·M⌉ − 1, with 0 in the first bin. */
  public static int bin(double conf) {
    int b = (int) Math.ceil(conf * BINS) - 1;
    return Math.max(0, Math.min(BINS - 1, b));
  }

  public void add(double conf, boolean isCorrect) {
    int b = bin(conf);
    count[b]++;
    confidence[b] += conf;
    if (isCorrect) {
      correct[b]++;
    }
  }

  public void merge(CalibrationError other) {
    for (int b = 0; b < BINS; b++) {
      count[b] += other.count[b];
      confidence[b] += other.confidence[b];
      correct[b] += other.correct[b];
    }
  }

  public long samples() {
    long n = 0;
    for (long c : count) {
      n += c;
    }
    return n;
  }

  public double value() {
    long n = samples();
    if (n == 0) {
      return Double.NaN;
    }
    double sum = 0;
    for (int b = 0; b < BINS; b++) {
      sum += Math.abs(correct[b] - confidence[b]);
    }
    return sum / n;
  }

  /** The reliability diagram: one entry per non-empty bin. */
  public List<ReliabilityBin> bins() {
    List<ReliabilityBin> out = new ArrayList<>();
    for (int b = 0; b < BINS; b++) {
      if (count[b] > 0) {
        out.add(
            new ReliabilityBin(
                (double) b / BINS,
                (double) (b + 1) / BINS,
                count[b],
                (double) correct[b] / count[b],
                confidence[b] / count[b]));
      }
    }
    return out;
  }
}

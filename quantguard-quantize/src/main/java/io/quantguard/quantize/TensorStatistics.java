package io.quantguard.quantize;

import io.quantguard.onnx.InvalidInputException;

/**
 * Everything calibration keeps about one activation tensor: exact extremes, the running average of
 * per-batch extremes, and an adaptive {@link Histogram}. It is a mergeable accumulator — {@link
 * #merge} of the statistics of two data splits equals the statistics of both — and its size is
 * fixed by the histogram, so calibrating on 2,000 samples needs no more memory than on 200. Because
 * every {@link Calibrator} reads the same statistics, one calibration pass serves every method, and
 * tuning can try another method for one tensor without running the model again.
 */
public final class TensorStatistics {
  /** Bins per histogram: enough for the entropy search to resolve thresholds well below the max. */
  public static final int DEFAULT_BINS = 4096;

  private final String tensor;
  private final Histogram histogram;
  private double min = Double.POSITIVE_INFINITY;
  private double max = Double.NEGATIVE_INFINITY;
  private double batchMinSum;
  private double batchMaxSum;
  private long batches;

  public TensorStatistics(String tensor) {
    this(tensor, DEFAULT_BINS);
  }

  public TensorStatistics(String tensor, int bins) {
    this.tensor = tensor;
    this.histogram = new Histogram(bins);
  }

  public String tensor() {
    return tensor;
  }

  /** Adds one batch of values. NaN or infinity is a data problem: it is reported, not skipped. */
  public void add(float[] values) {
    if (values.length == 0) {
      return;
    }
    float bmin = Float.POSITIVE_INFINITY;
    float bmax = Float.NEGATIVE_INFINITY;
    for (float v : values) {
      if (!(v >= bmin)) {
        if (Float.isNaN(v)) {
          throw nonFinite(v);
        }
        bmin = v;
      }
      if (!(v <= bmax)) {
        bmax = v;
      }
    }
    if (Float.isInfinite(bmin) || Float.isInfinite(bmax)) {
      throw nonFinite(Float.isInfinite(bmin) ? bmin : bmax);
    }
    min = Math.min(min, bmin);
    max = Math.max(max, bmax);
    batchMinSum += bmin;
    batchMaxSum += bmax;
    batches++;
    histogram.add(values, 0, values.length);
  }

  private InvalidInputException nonFinite(float v) {
    return new InvalidInputException(
        "calibration data",
        "the model computes " + v + " in tensor '" + tensor + "' on this data",
        "check the calibration samples (and the model) for values that overflow; "
            + "exclude the tensor in the recipe if the model does this by design");
  }

  /** Combines the statistics of another split of the data (same tensor). */
  public void merge(TensorStatistics other) {
    min = Math.min(min, other.min);
    max = Math.max(max, other.max);
    batchMinSum += other.batchMinSum;
    batchMaxSum += other.batchMaxSum;
    batches += other.batches;
    histogram.merge(other.histogram);
  }

  public boolean isEmpty() {
    return batches == 0;
  }

  public long count() {
    return histogram.total();
  }

  public Range range() {
    return new Range(min, max);
  }

  /** The equal-weight average of per-batch minima and maxima (a mergeable moving average). */
  public Range averagedRange() {
    return new Range(batchMinSum / batches, batchMaxSum / batches);
  }

  public Histogram histogram() {
    return histogram;
  }
}

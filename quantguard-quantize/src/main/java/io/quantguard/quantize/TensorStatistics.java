package io.quantguard.quantize;

import io.quantguard.onnx.InvalidInputException;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * Everything calibration keeps about one activation tensor: exact extremes, the average of
 * per-batch extremes ({@code minmax-average}), and an adaptive {@link Histogram}. It is a mergeable
 * accumulator — {@link #merge} of the statistics of two data splits equals the statistics of both —
 * and its size is fixed by the histogram, so calibrating on 2,000 samples needs no more memory than
 * on 200. Because every {@link Calibrator} reads the same statistics, one calibration pass serves
 * every method, and tuning can try another method for one tensor without running the model again.
 *
 * <p>Extremes and histogram depend on the multiset of values alone. The per-batch extremes depend
 * on how samples were grouped into batches: calibration cuts batches at multiples of the batch size
 * by global sample index, so any partitioning on batch boundaries sees the same batches, and their
 * sums are exact ({@link ExactSum}), so the merge order does not matter either.
 */
public final class TensorStatistics {
  /** Bins per histogram: enough for the entropy search to resolve thresholds well below the max. */
  public static final int DEFAULT_BINS = 4096;

  private final String tensor;
  private final Histogram histogram;
  private double min = Double.POSITIVE_INFINITY;
  private double max = Double.NEGATIVE_INFINITY;
  private final ExactSum batchMinSum = new ExactSum();
  private final ExactSum batchMaxSum = new ExactSum();
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
    batchMinSum.add(bmin);
    batchMaxSum.add(bmax);
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
    batchMinSum.add(other.batchMinSum);
    batchMaxSum.add(other.batchMaxSum);
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
    return new Range(batchMinSum.value() / batches, batchMaxSum.value() / batches);
  }

  public Histogram histogram() {
    return histogram;
  }

  void writeTo(DataOutput out) throws IOException {
    out.writeUTF(tensor);
    out.writeDouble(min);
    out.writeDouble(max);
    batchMinSum.writeTo(out);
    batchMaxSum.writeTo(out);
    out.writeLong(batches);
    histogram.writeTo(out);
  }

  static TensorStatistics readFrom(DataInput in) throws IOException {
    String tensor = in.readUTF();
    double min = in.readDouble();
    double max = in.readDouble();
    ExactSum lo = ExactSum.readFrom(in);
    ExactSum hi = ExactSum.readFrom(in);
    long batches = in.readLong();
    Histogram h = Histogram.readFrom(in);
    TensorStatistics s = new TensorStatistics(tensor, h.bins());
    s.min = min;
    s.max = max;
    s.batchMinSum.add(lo);
    s.batchMaxSum.add(hi);
    s.batches = batches;
    s.histogram.merge(h);
    return s;
  }
}

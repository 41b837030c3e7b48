package io.quantguard.quantize;

import io.quantguard.onnx.InvalidInputException;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Per-channel statistics of an activation: for each channel the exact minimum and maximum, the sum
 * (for the mean E[x]), mean |x| and mean x² over all values seen, and optionally the Gram matrix
 * XᵀX of a deterministic sample of the rows (every {@link #GRAM_STRIDE}-th row, up to a cap). The
 * channels are on the last axis (the reduction axis of a MatMul or Gemm input) or, for a
 * convolution's NCHW input, on axis 1, every spatial position counting as one value of its channel.
 * A mergeable accumulator of bounded size: {@link #merge} of two data splits equals one pass over
 * both, bit for bit, whatever the split and the merge order. Sums are exact ({@link ExactSum}) over
 * per-batch partial sums, and the Gram sample is chosen by global position (sample index, row in
 * the sample) and kept as rows until the Gram matrix is read, so the cap takes the first rows of
 * the whole data set, not of each part.
 *
 * <p>Readers: activation-aware weight quantization reads the magnitudes (the channels that carry
 * large activations are the ones whose weights must keep their precision); GPTQ reads the Gram
 * matrix, which is the Hessian of the layer's squared output error; SmoothQuant reads max |x_j| and
 * the smoothed range [min_j min_j/s_j, max_j max_j/s_j]; bias correction reads the mean.
 */
final class ChannelStatistics {
  static final int GRAM_STRIDE = 4;

  /** Where a tensor's channels are: the last axis, or axis 1 (NCHW). */
  enum Axis {
    LAST,
    NCHW
  }

  /**
   * What to collect for one tensor: its channel count and axis, and whether to fold XᵀX (last axis
   * only).
   */
  record Layout(int channels, Axis axis, boolean gram) {
    Layout {
      if (channels <= 0) {
        throw new IllegalArgumentException("channels must be positive, got " + channels);
      }
      if (gram && axis != Axis.LAST) {
        throw new IllegalArgumentException("a Gram matrix needs the channels on the last axis");
      }
    }

    /**
     * Both needs of one tensor: the Gram matrix when either asks for it. A tensor read with two
     * channel layouts (say by a Conv and by a MatMul) keeps the first; the node that needed the
     * other finds no statistics of its layout and says so.
     */
    Layout with(Layout other) {
      if (other.channels != channels || other.axis != axis) {
        return this;
      }
      return new Layout(channels, axis, gram || other.gram);
    }
  }

  private final String tensor;
  private final Axis axis;
  private final ExactSum[] sumAbs;
  private final ExactSum[] sumSquares;
  private final ExactSum[] sum;
  private final float[] min;
  private final float[] max;
  private long count;

  /** Samples seen through {@link #add(float[])}, which counts every row as one sample. */
  private long rows;

  private final int gramCap;

  /** The sampled rows by (global sample index, row in the sample), at most {@link #gramCap}. */
  private final TreeMap<RowKey, float[]> gramSample = new TreeMap<>();

  private volatile double @Nullable [] gram;

  /** The sums rounded once, [abs | squares | plain], while nothing is added. */
  private volatile double @Nullable [] rounded;

  /** Where a row lies in the whole data set: the order in which the Gram cap takes rows. */
  private record RowKey(long sample, int row) implements Comparable<RowKey> {
    @Override
    public int compareTo(RowKey o) {
      int c = Long.compare(sample, o.sample);
      return c != 0 ? c : Integer.compare(row, o.row);
    }
  }

  ChannelStatistics(int channels) {
    this(channels, 0);
  }

  /**
   * @param gramCap rows to fold into XᵀX (0 = no Gram matrix)
   */
  ChannelStatistics(int channels, int gramCap) {
    this("activation", channels, Axis.LAST, gramCap);
  }

  ChannelStatistics(String tensor, Layout layout, int gramCap) {
    this(tensor, layout.channels(), layout.axis(), layout.gram() ? gramCap : 0);
  }

  private ChannelStatistics(String tensor, int channels, Axis axis, int gramCap) {
    this.tensor = tensor;
    this.axis = axis;
    sumAbs = sums(channels);
    sumSquares = sums(channels);
    sum = sums(channels);
    min = new float[channels];
    max = new float[channels];
    Arrays.fill(min, Float.POSITIVE_INFINITY);
    Arrays.fill(max, Float.NEGATIVE_INFINITY);
    this.gramCap = gramCap;
  }

  private static ExactSum[] sums(int n) {
    ExactSum[] s = new ExactSum[n];
    for (int i = 0; i < n; i++) {
      s[i] = new ExactSum();
    }
    return s;
  }

  String tensor() {
    return tensor;
  }

  Axis axis() {
    return axis;
  }

  boolean hasGram() {
    return gramCap > 0 && !gramSample.isEmpty();
  }

  /**
   * The upper triangle (row-major, full k×k storage) of XᵀX over the sampled rows, folded in global
   * row order.
   */
  double[] gram() {
    if (gram == null) {
      int c = channels();
      double[] g = new double[c * c];
      for (float[] x : gramSample.values()) {
        addOuterProduct(g, x, c);
      }
      gram = g;
    }
    return gram;
  }

  long gramRows() {
    return gramSample.size();
  }

  int channels() {
    return sumAbs.length;
  }

  /** Adds values whose channels are on the last axis, every row one sample after those seen. */
  void add(float[] values) {
    if (axis != Axis.LAST) {
      throw new IllegalStateException("an NCHW tensor needs its shape: add(values, shape)");
    }
    int n = values.length / sumAbs.length;
    add(values, 1, rows, Math.max(n, 1));
    rows += n;
  }

  /** Adds one tensor of the given shape (channels on the last axis or on axis 1), one sample. */
  void add(float[] values, long[] shape) {
    add(values, shape, rows, 1);
    rows++;
  }

  /**
   * Adds one batch's tensor of the given shape (channels on the last axis or on axis 1).
   *
   * @param firstSample global index of the batch's first sample
   * @param samples samples in the batch (its rows divide evenly among them)
   */
  void add(float[] values, long[] shape, long firstSample, int samples) {
    if (axis == Axis.LAST) {
      add(values, 1, firstSample, samples);
      return;
    }
    if (shape.length < 2 || shape[1] != sumAbs.length) {
      throw new IllegalArgumentException(
          "tensor '"
              + tensor
              + "' of shape "
              + Arrays.toString(shape)
              + " has no "
              + sumAbs.length
              + " channels on axis 1");
    }
    long inner = 1;
    for (int d = 2; d < shape.length; d++) {
      inner *= shape[d];
    }
    add(values, Math.toIntExact(inner), firstSample, samples);
  }

  /** Channel of value i is (i / inner) mod channels. */
  private void add(float[] values, int inner, long firstSample, int samples) {
    int c = sumAbs.length;
    if (values.length % ((long) c * inner) != 0) {
      throw new IllegalArgumentException(
          values.length + " values are not rows of " + c + " channels");
    }
    // This batch's sums in a fixed order, then added exactly: the result does not depend on which
    // other batches share this accumulator.
    double[] pa = new double[c];
    double[] ps = new double[c];
    double[] p = new double[c];
    if (inner == 1) {
      for (int base = 0; base < values.length; base += c) {
        for (int k = 0; k < c; k++) {
          float v = values[base + k];
          pa[k] += Math.abs(v);
          ps[k] += (double) v * v;
          p[k] += v;
          if (v < min[k]) {
            min[k] = v;
          }
          if (v > max[k]) {
            max[k] = v;
          }
        }
      }
    } else {
      int i = 0;
      while (i < values.length) {
        for (int k = 0; k < c; k++) {
          double sa = 0;
          double sq = 0;
          double s = 0;
          float lo = min[k];
          float hi = max[k];
          for (int j = 0; j < inner; j++, i++) {
            float v = values[i];
            sa += Math.abs(v);
            sq += (double) v * v;
            s += v;
            if (v < lo) {
              lo = v;
            }
            if (v > hi) {
              hi = v;
            }
          }
          pa[k] += sa;
          ps[k] += sq;
          p[k] += s;
          min[k] = lo;
          max[k] = hi;
        }
      }
    }
    for (int k = 0; k < c; k++) {
      // NaN and ±infinity propagate into the sums, so one check per channel and batch suffices.
      if (!Double.isFinite(ps[k])) {
        throw new InvalidInputException(
            "calibration data",
            "the model computes a non-finite value in channel " + k + " of tensor '" + tensor + "'",
            "check the calibration samples (and the model) for values that overflow");
      }
      sumAbs[k].add(pa[k]);
      sumSquares[k].add(ps[k]);
      sum[k].add(p[k]);
    }
    count += values.length / c;
    rounded = null;
    if (gramCap > 0) {
      sampleRows(values, c, firstSample, samples);
    }
  }

  /** Keeps row r of the batch when its global row number is a multiple of the stride. */
  private void sampleRows(float[] values, int c, long firstSample, int samples) {
    int n = values.length / c;
    if (n == 0 || samples <= 0 || n % samples != 0) {
      throw new IllegalArgumentException(
          n + " rows of tensor '" + tensor + "' do not divide among " + samples + " samples");
    }
    int perSample = n / samples;
    long first = firstSample * perSample;
    for (int r = 0; r < n; r++) {
      if ((first + r) % GRAM_STRIDE != 0) {
        continue;
      }
      RowKey key = new RowKey(firstSample + r / perSample, r % perSample);
      if (gramSample.size() >= gramCap && key.compareTo(gramSample.lastKey()) > 0) {
        return; // rows come in order within a batch: the rest lie past the cap too
      }
      gramSample.put(key, Arrays.copyOfRange(values, r * c, r * c + c));
      if (gramSample.size() > gramCap) {
        gramSample.pollLastEntry();
      }
      gram = null;
    }
  }

  private static void addOuterProduct(double[] g, float[] x, int c) {
    for (int i = 0; i < c; i++) {
      double xi = x[i];
      if (xi == 0) {
        continue;
      }
      int row = i * c;
      for (int j = i; j < c; j++) {
        g[row + j] += xi * x[j];
      }
    }
  }

  void merge(ChannelStatistics other) {
    if (other.channels() != channels() || other.axis != axis) {
      throw new IllegalArgumentException("cannot merge statistics of different channel layouts");
    }
    for (int k = 0; k < sumAbs.length; k++) {
      sumAbs[k].add(other.sumAbs[k]);
      sumSquares[k].add(other.sumSquares[k]);
      sum[k].add(other.sum[k]);
      min[k] = Math.min(min[k], other.min[k]);
      max[k] = Math.max(max[k], other.max[k]);
    }
    count += other.count;
    rows += other.rows;
    rounded = null;
    if (gramCap > 0) {
      for (Map.Entry<RowKey, float[]> e : other.gramSample.entrySet()) {
        gramSample.put(e.getKey(), e.getValue().clone());
        if (gramSample.size() > gramCap) {
          gramSample.pollLastEntry();
        }
      }
      gram = null;
    }
  }

  void writeTo(DataOutput out) throws IOException {
    int c = channels();
    out.writeUTF(tensor);
    out.writeUTF(axis.name());
    out.writeInt(c);
    out.writeInt(gramCap);
    out.writeLong(count);
    out.writeLong(rows);
    for (int k = 0; k < c; k++) {
      out.writeFloat(min[k]);
      out.writeFloat(max[k]);
      sumAbs[k].writeTo(out);
      sumSquares[k].writeTo(out);
      sum[k].writeTo(out);
    }
    out.writeInt(gramSample.size());
    for (Map.Entry<RowKey, float[]> e : gramSample.entrySet()) {
      out.writeLong(e.getKey().sample());
      out.writeInt(e.getKey().row());
      for (float v : e.getValue()) {
        out.writeFloat(v);
      }
    }
  }

  static ChannelStatistics readFrom(DataInput in) throws IOException {
    String tensor = in.readUTF();
    Axis axis = Axis.valueOf(in.readUTF());
    int c = in.readInt();
    ChannelStatistics s = new ChannelStatistics(tensor, c, axis, in.readInt());
    s.count = in.readLong();
    s.rows = in.readLong();
    for (int k = 0; k < c; k++) {
      s.min[k] = in.readFloat();
      s.max[k] = in.readFloat();
      s.sumAbs[k].add(ExactSum.readFrom(in));
      s.sumSquares[k].add(ExactSum.readFrom(in));
      s.sum[k].add(ExactSum.readFrom(in));
    }
    int n = in.readInt();
    for (int i = 0; i < n; i++) {
      RowKey key = new RowKey(in.readLong(), in.readInt());
      float[] x = new float[c];
      for (int k = 0; k < c; k++) {
        x[k] = in.readFloat();
      }
      s.gramSample.put(key, x);
    }
    return s;
  }

  private double[] rounded() {
    double[] r = rounded;
    if (r == null) {
      int c = channels();
      r = new double[3 * c];
      for (int k = 0; k < c; k++) {
        r[k] = sumAbs[k].value();
        r[c + k] = sumSquares[k].value();
        r[2 * c + k] = sum[k].value();
      }
      rounded = r;
    }
    return r;
  }

  /** Values seen per channel. */
  long count() {
    return count;
  }

  double meanAbs(int k) {
    return count == 0 ? 0 : rounded()[k] / count;
  }

  double meanSquare(int k) {
    return count == 0 ? 0 : rounded()[channels() + k] / count;
  }

  /** E[x_k], the per-channel mean. */
  double mean(int k) {
    return count == 0 ? 0 : rounded()[2 * channels() + k] / count;
  }

  /** The smallest value of channel k (0 when nothing was seen). */
  float min(int k) {
    return count == 0 ? 0 : min[k];
  }

  float max(int k) {
    return count == 0 ? 0 : max[k];
  }

  /** max |x_k|. */
  float absMax(int k) {
    return Math.max(Math.abs(min(k)), Math.abs(max(k)));
  }

  /** max |x_k| for every channel: the activation side of SmoothQuant's factors. */
  float[] absMaxes() {
    float[] out = new float[channels()];
    for (int k = 0; k < out.length; k++) {
      out[k] = absMax(k);
    }
    return out;
  }
}

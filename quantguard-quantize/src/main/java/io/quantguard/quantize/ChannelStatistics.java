package io.quantguard.quantize;

import io.quantguard.onnx.InvalidInputException;

/**
 * Per-channel statistics of an activation: for each channel the exact minimum and maximum, the sum
 * (for the mean E[x]), mean |x| and mean x² over all values seen, and optionally the Gram matrix
 * XᵀX of a deterministic sample of the rows (every {@link #GRAM_STRIDE}-th row, up to a cap). The
 * channels are on the last axis (the reduction axis of a MatMul or Gemm input) or, for a
 * convolution's NCHW input, on axis 1, every spatial position counting as one value of its channel.
 * A mergeable accumulator of fixed size: {@link #merge} of two data splits equals one pass over
 * both.
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
  private final double[] sumAbs;
  private final double[] sumSquares;
  private final double[] sum;
  private final float[] min;
  private final float[] max;
  private long count;
  private long rows;
  private final double[] gram;
  private final int gramCap;
  private long gramRows;

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
    sumAbs = new double[channels];
    sumSquares = new double[channels];
    sum = new double[channels];
    min = new float[channels];
    max = new float[channels];
    java.util.Arrays.fill(min, Float.POSITIVE_INFINITY);
    java.util.Arrays.fill(max, Float.NEGATIVE_INFINITY);
    this.gramCap = gramCap;
    this.gram = gramCap > 0 ? new double[channels * channels] : null;
  }

  Axis axis() {
    return axis;
  }

  boolean hasGram() {
    return gram != null && gramRows > 0;
  }

  /** The upper triangle (row-major, full k×k storage) of XᵀX over the sampled rows. */
  double[] gram() {
    return gram;
  }

  long gramRows() {
    return gramRows;
  }

  int channels() {
    return sumAbs.length;
  }

  /** Adds values whose channels are on the last axis. */
  void add(float[] values) {
    if (axis != Axis.LAST) {
      throw new IllegalStateException("an NCHW tensor needs its shape: add(values, shape)");
    }
    add(values, 1);
  }

  /** Adds one tensor of the given shape (channels on the last axis or on axis 1). */
  void add(float[] values, long[] shape) {
    if (axis == Axis.LAST) {
      add(values, 1);
      return;
    }
    if (shape.length < 2 || shape[1] != sumAbs.length) {
      throw new IllegalArgumentException(
          "tensor '"
              + tensor
              + "' of shape "
              + java.util.Arrays.toString(shape)
              + " has no "
              + sumAbs.length
              + " channels on axis 1");
    }
    long inner = 1;
    for (int d = 2; d < shape.length; d++) {
      inner *= shape[d];
    }
    add(values, Math.toIntExact(inner));
  }

  /** Channel of value i is (i / inner) mod channels. */
  private void add(float[] values, int inner) {
    int c = sumAbs.length;
    if (values.length % ((long) c * inner) != 0) {
      throw new IllegalArgumentException(
          values.length + " values are not rows of " + c + " channels");
    }
    if (inner == 1) {
      for (int base = 0; base < values.length; base += c) {
        for (int k = 0; k < c; k++) {
          float v = values[base + k];
          sumAbs[k] += Math.abs(v);
          sumSquares[k] += (double) v * v;
          sum[k] += v;
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
          sumAbs[k] += sa;
          sumSquares[k] += sq;
          sum[k] += s;
          min[k] = lo;
          max[k] = hi;
        }
      }
    }
    for (int k = 0; k < c; k++) {
      // NaN and ±infinity propagate into the sums, so one check per channel and batch suffices.
      if (!Double.isFinite(sumSquares[k])) {
        throw new InvalidInputException(
            "calibration data",
            "the model computes a non-finite value in channel " + k + " of tensor '" + tensor + "'",
            "check the calibration samples (and the model) for values that overflow");
      }
    }
    count += values.length / c;
    if (gram != null) {
      long first = rows;
      for (int r = 0; r < values.length / c && gramRows < gramCap; r++) {
        if ((first + r) % GRAM_STRIDE == 0) {
          addOuterProduct(values, r * c, c);
          gramRows++;
        }
      }
    }
    rows += values.length / ((long) c * inner);
  }

  private void addOuterProduct(float[] x, int from, int c) {
    for (int i = 0; i < c; i++) {
      double xi = x[from + i];
      if (xi == 0) {
        continue;
      }
      int row = i * c;
      for (int j = i; j < c; j++) {
        gram[row + j] += xi * x[from + j];
      }
    }
  }

  void merge(ChannelStatistics other) {
    if (other.channels() != channels() || other.axis != axis) {
      throw new IllegalArgumentException("cannot merge statistics of different channel layouts");
    }
    for (int k = 0; k < sumAbs.length; k++) {
      sumAbs[k] += other.sumAbs[k];
      sumSquares[k] += other.sumSquares[k];
      sum[k] += other.sum[k];
      min[k] = Math.min(min[k], other.min[k]);
      max[k] = Math.max(max[k], other.max[k]);
    }
    count += other.count;
    rows += other.rows;
    if (gram != null && other.gram != null) {
      for (int i = 0; i < gram.length; i++) {
        gram[i] += other.gram[i];
      }
      gramRows += other.gramRows;
    }
  }

  /** Values seen per channel. */
  long count() {
    return count;
  }

  double meanAbs(int k) {
    return count == 0 ? 0 : sumAbs[k] / count;
  }

  double meanSquare(int k) {
    return count == 0 ? 0 : sumSquares[k] / count;
  }

  /** E[x_k], the per-channel mean. */
  double mean(int k) {
    return count == 0 ? 0 : sum[k] / count;
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
}

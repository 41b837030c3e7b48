package io.quantguard.quantize;

/**
 * Per-channel magnitudes of an activation (channels on its last axis): mean |x| and mean x² over
 * all rows seen, and optionally the Gram matrix XᵀX of a deterministic sample of the rows (every
 * {@link #GRAM_STRIDE}-th row, up to a cap). A mergeable accumulator of fixed size.
 * Activation-aware weight quantization reads the magnitudes (the channels that carry large
 * activations are the ones whose weights must keep their precision); GPTQ reads the Gram matrix,
 * which is the Hessian of the layer's squared output error.
 */
final class ChannelStatistics {
  static final int GRAM_STRIDE = 4;

  private final double[] sumAbs;
  private final double[] sumSquares;
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
    sumAbs = new double[channels];
    sumSquares = new double[channels];
    this.gramCap = gramCap;
    this.gram = gramCap > 0 ? new double[channels * channels] : null;
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

  void add(float[] values) {
    int c = sumAbs.length;
    if (values.length % c != 0) {
      throw new IllegalArgumentException(
          values.length + " values are not rows of " + c + " channels");
    }
    for (int i = 0; i < values.length; i++) {
      float v = values[i];
      int k = i % c;
      sumAbs[k] += Math.abs(v);
      sumSquares[k] += (double) v * v;
    }
    if (gram != null) {
      long first = rows;
      for (int r = 0; r < values.length / c && gramRows < gramCap; r++) {
        if ((first + r) % GRAM_STRIDE == 0) {
          addOuterProduct(values, r * c, c);
          gramRows++;
        }
      }
    }
    rows += values.length / c;
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
    for (int k = 0; k < sumAbs.length; k++) {
      sumAbs[k] += other.sumAbs[k];
      sumSquares[k] += other.sumSquares[k];
    }
    rows += other.rows;
    if (gram != null && other.gram != null) {
      for (int i = 0; i < gram.length; i++) {
        gram[i] += other.gram[i];
      }
      gramRows += other.gramRows;
    }
  }

  double meanAbs(int k) {
    return rows == 0 ? 0 : sumAbs[k] / rows;
  }

  double meanSquare(int k) {
    return rows == 0 ? 0 : sumSquares[k] / rows;
  }
}

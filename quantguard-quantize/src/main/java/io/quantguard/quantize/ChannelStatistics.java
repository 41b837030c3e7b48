package io.quantguard.quantize;

/**
 * Per-channel magnitudes of an activation (channels on its last axis): mean |x| and mean x² over
 * all rows seen. A mergeable accumulator with one pair of sums per channel. Activation-aware weight
 * quantization reads it: the channels that carry large activations are the ones whose weights must
 * keep their precision.
 */
final class ChannelStatistics {
  private final double[] sumAbs;
  private final double[] sumSquares;
  private long rows;

  ChannelStatistics(int channels) {
    sumAbs = new double[channels];
    sumSquares = new double[channels];
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
    rows += values.length / c;
  }

  void merge(ChannelStatistics other) {
    for (int k = 0; k < sumAbs.length; k++) {
      sumAbs[k] += other.sumAbs[k];
      sumSquares[k] += other.sumSquares[k];
    }
    rows += other.rows;
  }

  double meanAbs(int k) {
    return rows == 0 ? 0 : sumAbs[k] / rows;
  }

  double meanSquare(int k) {
    return rows == 0 ? 0 : sumSquares[k] / rows;
  }
}

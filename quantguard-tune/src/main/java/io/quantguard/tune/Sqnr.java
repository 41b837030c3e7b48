package io.quantguard.tune;

/**
 * Accumulates signal and noise energy for SQNR = 10·log₁₀(Σx² / Σ(x − x̂)²) in dB, batch by batch.
 */
final class Sqnr {
  private double signal;
  private double noise;
  private long values;

  void add(float[] reference, float[] other) {
    if (reference.length != other.length) {
      throw new IllegalArgumentException(
          "tensors of " + reference.length + " and " + other.length + " values");
    }
    values += reference.length;
    for (int i = 0; i < reference.length; i++) {
      double x = reference[i];
      double d = x - other[i];
      signal += x * x;
      noise += d * d;
    }
  }

  /** dB; +∞ when the two agree exactly, NaN when nothing was added. */
  double db() {
    return values == 0
        ? Double.NaN
        : noise == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(signal / noise);
  }
}

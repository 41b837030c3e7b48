package io.quantguard.quantize;

/** A real-valued interval [min, max] that a quantizer must represent. */
public record Range(double min, double max) {
  public Range {
    if (Double.isNaN(min) || Double.isNaN(max) || min > max) {
      throw new IllegalArgumentException("invalid range [" + min + ", " + max + "]");
    }
  }

  /** The range widened to contain 0, which every affine quantizer must represent exactly. */
  public Range withZero() {
    return new Range(Math.min(min, 0), Math.max(max, 0));
  }

  public double absMax() {
    return Math.max(Math.abs(min), Math.abs(max));
  }
}

package io.quantguard.quantize;

import io.quantguard.onnx.DataType;

/**
 * How a tensor is mapped to integers: the integer type, symmetric or affine, the 7-bit reduced
 * range that some older CPUs need to avoid int16 overflow in their multiply-add instructions, and
 * the number of bits of the integer grid, which may be narrower than the type that stores it.
 *
 * <p>Affine quantization (ONNX QuantizeLinear): {@code q = saturate(round(x / s) + z)}, {@code x ≈
 * (q − z) · s}. For a range [a, b] widened to contain 0 and integer limits [qmin, qmax]:
 *
 * <pre>
 *   s = (b − a) / (qmax − qmin)        z = round(qmin − a / s), clamped to [qmin, qmax]
 * </pre>
 *
 * Symmetric quantization uses [−m, m] with m = max(|a|, |b|); signed types then use the restricted
 * range [−qmax, qmax] so that z is exactly 0 (as ONNX Runtime's quantizer does), which lets integer
 * kernels skip the zero-point correction and keeps per-channel weights valid for ONNX Runtime's
 * QLinearConv. Rounding is half to even, as QuantizeLinear prescribes.
 *
 * <p>A grid of {@code bits} narrower than the type (3-bit weights in int4, 4-bit activations in
 * uint8, so that kernels without a 4-bit form still run them) has the limits of a {@code bits}-wide
 * integer: signed [−2^(bits−1), 2^(bits−1) − 1], unsigned [0, 2^bits − 1], and the signed symmetric
 * range restricted as above, so 3 bits symmetric is [−3, 3] (PyTorch's quant_min −4, quant_max 3
 * with a scale of m / 3.5 clips the positive end; the restricted grid keeps z = 0 and clips
 * nothing, as QuantGuard's int4 [−7, 7] and int8 [−127, 127] do).
 */
public record Scheme(DataType type, boolean symmetric, boolean reduceRange, int bits) {
  public Scheme {
    if (!type.isInteger() || type.bits() > 16 || type.bits() < 4) {
      throw new IllegalArgumentException(
          "quantized tensors are int4, uint4, int8, uint8, int16 or uint16, not "
              + type.displayName());
    }
    if (reduceRange && type.bits() != 8) {
      throw new IllegalArgumentException(
          "reduce_range applies to 8-bit types only, not " + type.displayName());
    }
    if (bits < 2 || bits > type.bits()) {
      throw new IllegalArgumentException(
          "bits is "
              + bits
              + ", and a "
              + type.displayName()
              + " grid has 2 to "
              + type.bits()
              + " bits");
    }
    if (reduceRange && bits != type.bits()) {
      throw new IllegalArgumentException(
          "reduce_range and bits both narrow the grid: reduce_range is bits 7");
    }
  }

  /** The full grid of {@code type}. */
  public Scheme(DataType type, boolean symmetric, boolean reduceRange) {
    this(type, symmetric, reduceRange, type.bits());
  }

  public static Scheme of(DataType type, boolean symmetric) {
    return new Scheme(type, symmetric, false);
  }

  /**
   * Whether the grid is narrower than its type, so QuantizeLinear's saturation does not clip it.
   */
  public boolean narrowed() {
    return bits < type.bits();
  }

  /**
   * Whether this is int8 with all 8 bits: the weights that saturate ONNX Runtime's uint8 x int8
   * kernels on CPUs without VNNI.
   */
  public boolean fullRangeInt8() {
    return type == DataType.INT8 && !reduceRange && !narrowed();
  }

  public int qmax() {
    if (reduceRange) {
      return type.isSigned() ? 63 : 127;
    }
    return type.isSigned() ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
  }

  public int qmin() {
    if (reduceRange) {
      return type.isSigned() ? (symmetric ? -63 : -64) : 0;
    }
    if (symmetric && type.isSigned()) {
      return -qmax();
    }
    return type.isSigned() ? -(1 << (bits - 1)) : 0;
  }

  /** Number of representable steps, qmax − qmin. */
  public int levels() {
    return qmax() - qmin();
  }

  /** Per-tensor parameters for a calibrated range. */
  public QuantParams params(Range range) {
    float[] s = new float[1];
    int[] z = new int[1];
    fill(range, s, z, 0);
    return new QuantParams(this, s, z, -1);
  }

  /** Per-channel parameters along {@code axis}, one range per channel. */
  public QuantParams params(Range[] ranges, int axis) {
    float[] s = new float[ranges.length];
    int[] z = new int[ranges.length];
    for (int i = 0; i < ranges.length; i++) {
      fill(ranges[i], s, z, i);
    }
    return new QuantParams(this, s, z, axis);
  }

  private void fill(Range range, float[] s, int[] z, int i) {
    Range r = range.withZero();
    double a = r.min();
    double b = r.max();
    if (symmetric) {
      double m = Math.max(-a, b);
      a = -m;
      b = m;
    }
    int qmin = qmin();
    int qmax = qmax();
    double scale = (b - a) / (qmax - qmin);
    if (!(scale >= Float.MIN_NORMAL) || Double.isInfinite(scale) || (float) scale == 0f) {
      // A zero range (a tensor that is always 0) or one too small for float32: any positive scale
      // represents it, 1 keeps the dequantized zeros exact.
      scale = b - a == 0 ? 1.0 : Float.MIN_NORMAL;
    }
    float fs = (float) scale;
    int zp;
    if (symmetric) {
      zp = type.isSigned() ? 0 : (int) Math.rint((qmin + qmax) / 2.0);
    } else {
      zp = (int) Math.rint(qmin - a / fs);
    }
    s[i] = fs;
    z[i] = Math.max(qmin, Math.min(qmax, zp));
  }

  @Override
  public String toString() {
    return type.displayName()
        + (symmetric ? " symmetric" : " asymmetric")
        + (reduceRange ? " reduce-range" : "")
        + (narrowed() ? " " + bits + "-bit" : "");
  }
}

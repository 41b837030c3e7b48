package io.quantguard.quantize;

import java.util.Arrays;

/**
 * Scale and zero point of one quantized tensor: one pair per tensor ({@code axis == -1}) or one per
 * channel along {@code axis}. Quantizing and dequantizing here follow ONNX QuantizeLinear and
 * DequantizeLinear exactly, so what QuantGuard measures offline is what ONNX Runtime computes.
 */
public record QuantParams(Scheme scheme, float[] scale, int[] zeroPoint, int axis) {
  public QuantParams {
    if (scale.length != zeroPoint.length || scale.length == 0) {
      throw new IllegalArgumentException("scale and zero point counts differ");
    }
    if (axis < 0 && scale.length != 1) {
      throw new IllegalArgumentException("per-tensor parameters need exactly one scale");
    }
  }

  public boolean perChannel() {
    return axis >= 0;
  }

  public int channels() {
    return scale.length;
  }

  /**
   * {@code saturate(round_half_even(x / s) + z)} with the division in float32 as ONNX specifies.
   */
  public static int quantize(float x, float scale, int zeroPoint, int qmin, int qmax) {
    double q = Math.rint(x / scale) + zeroPoint;
    return (int) Math.max(qmin, Math.min(qmax, q));
  }

  public static float dequantize(int q, float scale, int zeroPoint) {
    return (q - zeroPoint) * scale;
  }

  /**
   * Quantizes a row-major tensor of shape {@code dims}. Per-channel parameters index the channel by
   * {@code axis}.
   */
  public int[] quantize(float[] x, long[] dims) {
    int[] q = new int[x.length];
    int qmin = scheme.qmin();
    int qmax = scheme.qmax();
    if (!perChannel()) {
      for (int i = 0; i < x.length; i++) {
        q[i] = quantize(x[i], scale[0], zeroPoint[0], qmin, qmax);
      }
      return q;
    }
    int inner = inner(dims);
    int channels = (int) dims[axis];
    for (int i = 0; i < x.length; i++) {
      int c = (i / inner) % channels;
      q[i] = quantize(x[i], scale[c], zeroPoint[c], qmin, qmax);
    }
    return q;
  }

  /** What ONNX Runtime will compute from the quantized values: x̂ = (q − z) · s. */
  public float[] dequantize(int[] q, long[] dims) {
    float[] x = new float[q.length];
    int inner = perChannel() ? inner(dims) : 1;
    int channels = perChannel() ? (int) dims[axis] : 1;
    for (int i = 0; i < q.length; i++) {
      int c = perChannel() ? (i / inner) % channels : 0;
      x[i] = dequantize(q[i], scale[c], zeroPoint[c]);
    }
    return x;
  }

  private int inner(long[] dims) {
    if (axis >= dims.length) {
      throw new IllegalArgumentException(
          "axis " + axis + " outside shape " + Arrays.toString(dims));
    }
    long n = 1;
    for (int d = axis + 1; d < dims.length; d++) {
      n *= dims[d];
    }
    if (dims[axis] != scale.length) {
      throw new IllegalArgumentException(
          scale.length + " channel scales for axis " + axis + " of shape " + Arrays.toString(dims));
    }
    return (int) n;
  }
}

package io.quantguard.quantize;

import java.util.Arrays;

/**
 * Ranges for weight tensors, computed from the weights themselves (no calibration data needed):
 * min/max, a percentile of |w|, or the range that minimizes the actual squared
 * rounding-plus-clipping error Σ (w − dequantize(quantize(w)))² over a grid of clipping ratios. At
 * 4 bits the MSE range beats min/max clearly; at 8 bits it rarely matters.
 */
final class WeightRanges {
  private WeightRanges() {}

  /** One range per slice along {@code axis}, or a single range when {@code axis < 0}. */
  static Range[] of(
      float[] w,
      long[] dims,
      int axis,
      Scheme scheme,
      Recipe.WeightMethod method,
      double percentile) {
    if (axis < 0) {
      return new Range[] {range(w, scheme, method, percentile)};
    }
    int channels = (int) dims[axis];
    long inner = 1;
    for (int d = axis + 1; d < dims.length; d++) {
      inner *= dims[d];
    }
    int perChannel = w.length / channels;
    float[][] slices = new float[channels][perChannel];
    int[] fill = new int[channels];
    for (int i = 0; i < w.length; i++) {
      int c = (int) ((i / inner) % channels);
      slices[c][fill[c]++] = w[i];
    }
    Range[] out = new Range[channels];
    for (int c = 0; c < channels; c++) {
      out[c] = range(slices[c], scheme, method, percentile);
    }
    return out;
  }

  static Range range(float[] w, Scheme scheme, Recipe.WeightMethod method, double percentile) {
    float min = Float.POSITIVE_INFINITY;
    float max = Float.NEGATIVE_INFINITY;
    for (float v : w) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    Range full = new Range(min, max);
    return switch (method) {
      case MINMAX -> full;
      case PERCENTILE -> percentile(w, full, scheme, percentile);
      case MSE -> mse(w, full.withZero(), scheme);
    };
  }

  private static Range percentile(float[] w, Range full, Scheme scheme, double p) {
    float[] sorted = w.clone();
    if (scheme.symmetric()) {
      for (int i = 0; i < sorted.length; i++) {
        sorted[i] = Math.abs(sorted[i]);
      }
      Arrays.sort(sorted);
      double t = sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100 * sorted.length) - 1)];
      return new Range(-t, t);
    }
    Arrays.sort(sorted);
    int hi = Math.min(sorted.length - 1, (int) Math.ceil(p / 100 * sorted.length) - 1);
    int lo = Math.max(0, (int) Math.floor((1 - p / 100) * sorted.length));
    return new Range(Math.min(sorted[lo], sorted[hi]), sorted[hi]);
  }

  private static Range mse(float[] w, Range full, Scheme scheme) {
    if (scheme.symmetric()) {
      double m = full.absMax();
      Range best = new Range(-m, m);
      double bestErr = Double.POSITIVE_INFINITY;
      for (int k = 100; k >= 30; k--) {
        double t = m * k / 100;
        Range r = new Range(-t, t);
        double err = error(w, scheme.params(r));
        if (err < bestErr) {
          bestErr = err;
          best = r;
        }
      }
      return best;
    }
    Range best = full;
    double bestErr = Double.POSITIVE_INFINITY;
    for (int a = 100; a >= 50; a -= 2) {
      for (int b = 100; b >= 50; b -= 2) {
        Range r = new Range(full.min() * a / 100, full.max() * b / 100);
        double err = error(w, scheme.params(r));
        if (err < bestErr) {
          bestErr = err;
          best = r;
        }
      }
    }
    return best;
  }

  private static double error(float[] w, QuantParams p) {
    float s = p.scale()[0];
    int z = p.zeroPoint()[0];
    int qmin = p.scheme().qmin();
    int qmax = p.scheme().qmax();
    double err = 0;
    for (float v : w) {
      double d = v - QuantParams.dequantize(QuantParams.quantize(v, s, z, qmin, qmax), s, z);
      err += d * d;
    }
    return err;
  }
}

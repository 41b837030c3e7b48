package io.quantguard.quantize;

import org.jspecify.annotations.Nullable;

/**
 * Empirical bias correction (Nagel et al., "Data-Free Quantization Through Weight Equalization and
 * Bias Correction", ICCV 2019, §4.2, with the input mean measured on calibration data as in Intel
 * Neural Compressor and NNCF): quantizing the weights shifts the expected output by
 *
 * <pre>
 *   E[ŷ] − E[y] = ΔW · E[x],   ΔW = dequantize(quantize(W)) − W
 * </pre>
 *
 * so the bias that cancels the shift is b' = b − ΔW·E[x], E[x] the per-input-channel mean of the
 * activation input. Per operator, with μ the channel means:
 *
 * <ul>
 *   <li>MatMul / Gemm, W of shape [K, N]: Δ_n = Σ_k ΔW_kn μ_k (a Gemm with {@code transB} stores
 *       [N, K]: Δ_n = Σ_k ΔW_nk μ_k; its bias C is scaled by β and the product by α, so C' = C −
 *       (α/β)·Δ).
 *   <li>Conv, W of shape [M, C/groups, kH, kW]: Δ_m = Σ_{c, taps} ΔW_{m,c,taps} μ_{g(m)·C/groups +
 *       c}, every kernel tap reading the same channel mean. Zero padding is ignored: at the border
 *       some taps read zeros instead of x, so the correction is too large there (a 3×3 kernel with
 *       padding 1 over a 28×28 map: 108 of 784 output positions touch the border; over 14×14, 52 of
 *       196).
 * </ul>
 */
final class BiasCorrection {
  private BiasCorrection() {}

  /** Δ for a [K, N] weight ({@code transposed}: [N, K]); {@code dq} is the dequantized weight. */
  static double[] matMulShift(float[] w, float[] dq, long[] dims, boolean transposed, double[] mu) {
    int rows = (int) dims[0];
    int cols = (int) dims[1];
    int outputs = transposed ? rows : cols;
    double[] shift = new double[outputs];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        double d = (double) dq[r * cols + c] - w[r * cols + c];
        if (transposed) {
          shift[r] += d * mu[c];
        } else {
          shift[c] += d * mu[r];
        }
      }
    }
    return shift;
  }

  /** Δ for a convolution weight [M, C/groups, taps...] whose input has C = mu.length channels. */
  static double[] convShift(float[] w, float[] dq, long[] dims, long groups, double[] mu) {
    int m = (int) dims[0];
    int perGroupIn = (int) dims[1];
    int taps = 1;
    for (int d = 2; d < dims.length; d++) {
      taps *= (int) dims[d];
    }
    int perGroupOut = (int) (m / groups);
    double[] shift = new double[m];
    for (int o = 0; o < m; o++) {
      int firstIn = (o / perGroupOut) * perGroupIn;
      for (int c = 0; c < perGroupIn; c++) {
        double mean = mu[firstIn + c];
        int base = (o * perGroupIn + c) * taps;
        double sum = 0;
        for (int t = 0; t < taps; t++) {
          sum += (double) dq[base + t] - w[base + t];
        }
        shift[o] += sum * mean;
      }
    }
    return shift;
  }

  /** b − factor·Δ, in float. */
  static float[] corrected(float @Nullable [] bias, double[] shift, double factor) {
    float[] out = new float[shift.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) ((bias == null ? 0 : bias[i]) - factor * shift[i]);
    }
    return out;
  }
}

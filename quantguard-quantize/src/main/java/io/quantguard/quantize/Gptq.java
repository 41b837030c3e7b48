package io.quantguard.quantize;

import org.jspecify.annotations.Nullable;

/**
 * GPTQ (Frantar et al., "GPTQ: Accurate Post-Training Quantization for Generative Pre-trained
 * Transformers", ICLR 2023): quantizes a weight matrix one input column at a time and spreads each
 * column's rounding error over the columns not yet quantized, weighted by the inverse Hessian of
 * the layer's squared output error, H = XᵀX (from calibration activations):
 *
 * <pre>
 *   U = chol(H⁻¹)ᵀ (upper)          for each column i:
 *   q_i = quant(w_i)                   e_i = (w_i − q_i) / U_ii
 *                                       w_j −= e_i · U_ij   for j > i
 * </pre>
 *
 * Group scales (one per {@code block} input columns and output row) are chosen when the group's
 * first column is reached, from the already-updated weights, as in the paper's grouped variant.
 * Dampening adds 1 % of the mean diagonal to H; columns whose activations were always zero are
 * zeroed.
 */
final class Gptq {
  private Gptq() {}

  /**
   * @param nk weights laid out [rows = output channels, k = input channels]
   * @param gramUpper XᵀX (upper triangle of a k×k row-major matrix)
   */
  static BlockQuantization quantize(
      float[] nk, int rows, int k, double[] gramUpper, int block, Scheme scheme) {
    double[][] h = new double[k][k];
    double diagSum = 0;
    for (int i = 0; i < k; i++) {
      for (int j = i; j < k; j++) {
        h[i][j] = gramUpper[i * k + j];
        h[j][i] = h[i][j];
      }
      diagSum += h[i][i];
    }
    double[][] w = new double[rows][k];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < k; c++) {
        w[r][c] = nk[r * k + c];
      }
    }
    for (int i = 0; i < k; i++) {
      if (h[i][i] == 0) {
        h[i][i] = 1;
        for (int r = 0; r < rows; r++) {
          w[r][i] = 0;
        }
      }
    }
    double damp = 0.01 * Math.max(diagSum / k, 1e-12);
    double[][] u = null;
    for (int attempt = 0; attempt < 4 && u == null; attempt++) {
      double[][] hd = new double[k][];
      for (int i = 0; i < k; i++) {
        hd[i] = h[i].clone();
        hd[i][i] += damp;
      }
      u = upperCholeskyOfInverse(hd);
      damp *= 10;
    }
    if (u == null) {
      throw new IllegalStateException(
          "the activation Gram matrix is not positive definite even after dampening");
    }
    int blocks = (k + block - 1) / block;
    int[] codes = new int[rows * k];
    float[] scales = new float[rows * blocks];
    int[] zps = new int[rows * blocks];
    int qmin = scheme.qmin();
    int qmax = scheme.qmax();
    double[] err = new double[rows];
    for (int i = 0; i < k; i++) {
      int b = i / block;
      if (i % block == 0) {
        int end = Math.min(k, i + block);
        for (int r = 0; r < rows; r++) {
          double lo = Double.POSITIVE_INFINITY;
          double hi = Double.NEGATIVE_INFINITY;
          for (int c = i; c < end; c++) {
            lo = Math.min(lo, w[r][c]);
            hi = Math.max(hi, w[r][c]);
          }
          QuantParams p = scheme.params(new Range(lo, hi));
          scales[r * blocks + b] = p.scale()[0];
          zps[r * blocks + b] = p.zeroPoint()[0];
        }
      }
      double d = u[i][i];
      for (int r = 0; r < rows; r++) {
        float s = scales[r * blocks + b];
        int z = zps[r * blocks + b];
        int q = QuantParams.quantize((float) w[r][i], s, z, qmin, qmax);
        codes[r * k + i] = q;
        err[r] = (w[r][i] - QuantParams.dequantize(q, s, z)) / d;
      }
      double[] ui = u[i];
      for (int r = 0; r < rows; r++) {
        double e = err[r];
        if (e == 0) {
          continue;
        }
        double[] wr = w[r];
        for (int j = i + 1; j < k; j++) {
          wr[j] -= e * ui[j];
        }
      }
    }
    return new BlockQuantization(rows, k, block, scheme, codes, scales, zps);
  }

  /** U upper-triangular with H⁻¹ = Uᵀ U, or null when H is not positive definite. */
  private static double @Nullable [][] upperCholeskyOfInverse(double[][] h) {
    int k = h.length;
    double[][] l = cholesky(h);
    if (l == null) {
      return null;
    }
    // X = L⁻¹ (lower triangular), row by row: X_i = (e_i − Σ_{m<i} L_im X_m) / L_ii.
    double[][] x = new double[k][];
    for (int i = 0; i < k; i++) {
      double[] row = new double[k];
      row[i] = 1;
      double[] li = l[i];
      for (int m = 0; m < i; m++) {
        double f = li[m];
        if (f != 0) {
          double[] xm = x[m];
          for (int c = 0; c <= m; c++) {
            row[c] -= f * xm[c];
          }
        }
      }
      double d = li[i];
      for (int c = 0; c <= i; c++) {
        row[c] /= d;
      }
      x[i] = row;
    }
    // H⁻¹ = Xᵀ X, accumulated row by row of X (upper triangle, then mirrored).
    double[][] inv = new double[k][k];
    for (int m = 0; m < k; m++) {
      double[] xm = x[m];
      for (int i = 0; i <= m; i++) {
        double xi = xm[i];
        if (xi == 0) {
          continue;
        }
        double[] invi = inv[i];
        for (int j = i; j <= m; j++) {
          invi[j] += xi * xm[j];
        }
      }
    }
    for (int i = 0; i < k; i++) {
      for (int j = i + 1; j < k; j++) {
        inv[j][i] = inv[i][j];
      }
    }
    double[][] lower = cholesky(inv);
    if (lower == null) {
      return null;
    }
    double[][] u = new double[k][k];
    for (int i = 0; i < k; i++) {
      for (int j = i; j < k; j++) {
        u[i][j] = lower[j][i];
      }
    }
    return u;
  }

  /** Lower Cholesky factor, or null when the matrix is not positive definite. */
  private static double @Nullable [][] cholesky(double[][] a) {
    int k = a.length;
    double[][] l = new double[k][k];
    for (int j = 0; j < k; j++) {
      double[] lj = l[j];
      double sum = a[j][j];
      for (int m = 0; m < j; m++) {
        sum -= lj[m] * lj[m];
      }
      if (!(sum > 0)) {
        return null;
      }
      double d = Math.sqrt(sum);
      lj[j] = d;
      for (int i = j + 1; i < k; i++) {
        double[] li = l[i];
        double s = a[i][j];
        for (int m = 0; m < j; m++) {
          s -= li[m] * lj[m];
        }
        li[j] = s / d;
      }
    }
    return l;
  }
}

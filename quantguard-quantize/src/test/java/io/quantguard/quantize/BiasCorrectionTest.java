package io.quantguard.quantize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.quantguard.onnx.DataType;
import org.junit.jupiter.api.Test;

/** b' = b − ΔW·E[x] against hand-computed values. */
class BiasCorrectionTest {
  // W [K = 2, N = 2] and a dequantized version of it: ΔW = [[-0.05, -0.05], [0.025, 0.05]].
  private static final float[] W = {0.3f, -0.2f, 0.1f, 0.45f};
  private static final float[] DQ = {0.25f, -0.25f, 0.125f, 0.5f};
  private static final double[] MU = {2, -1};

  @Test
  void matMulShiftIsDeltaWTimesTheInputMean() {
    double[] shift = BiasCorrection.matMulShift(W, DQ, new long[] {2, 2}, false, MU);
    // Δ_0 = −0.05·2 + 0.025·(−1) = −0.125;  Δ_1 = −0.05·2 + 0.05·(−1) = −0.15.
    assertThat(shift[0]).isCloseTo(-0.125, within(1e-7));
    assertThat(shift[1]).isCloseTo(-0.15, within(1e-7));
    float[] b = BiasCorrection.corrected(new float[] {1f, 2f}, shift, 1);
    assertThat(b[0]).isCloseTo(1.125f, within(1e-6f));
    assertThat(b[1]).isCloseTo(2.15f, within(1e-6f));
    // No bias: b' = −Δ; a Gemm's α/β scales the correction.
    assertThat(BiasCorrection.corrected(null, shift, 2)[1]).isCloseTo(0.3f, within(1e-6f));
    // Gemm with transB stores [N, K]: the same numbers transposed give the same shift.
    float[] wT = {W[0], W[2], W[1], W[3]};
    float[] dqT = {DQ[0], DQ[2], DQ[1], DQ[3]};
    double[] t = BiasCorrection.matMulShift(wT, dqT, new long[] {2, 2}, true, MU);
    assertThat(t[0]).isCloseTo(shift[0], within(1e-12));
    assertThat(t[1]).isCloseTo(shift[1], within(1e-12));
  }

  @Test
  void convShiftSumsTheKernelTapsOfEachInputChannel() {
    // W [M = 2, C = 2, 1, 2]: output m, input c, two taps; ΔW = dq − w per tap below.
    float[] w = {0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f};
    float[] dq = {0.1f, 0.2f, -0.3f, 0f, 0f, 0f, 0.5f, 0.5f};
    double[] mu = {10, 1};
    double[] shift = BiasCorrection.convShift(w, dq, new long[] {2, 2, 1, 2}, 1, mu);
    // m0: (0.1 + 0.2)·10 + (−0.3)·1 = 2.7;  m1: 0·10 + (0.5 + 0.5)·1 = 1.
    assertThat(shift[0]).isCloseTo(2.7, within(1e-6));
    assertThat(shift[1]).isCloseTo(1.0, within(1e-6));
    // Depthwise-style groups = 2, W [2, 1, 1, 2]: output m reads input channel m only.
    float[] dw = {0.1f, 0.2f, 0.5f, 0.5f};
    double[] grouped = BiasCorrection.convShift(new float[4], dw, new long[] {2, 1, 1, 2}, 2, mu);
    assertThat(grouped[0]).isCloseTo(3.0, within(1e-6));
    assertThat(grouped[1]).isCloseTo(1.0, within(1e-6));
  }

  @Test
  void correctionCancelsTheMeanOutputErrorOfRealQuantization() {
    // int4 per-column weights and inputs with a large mean: the corrected bias removes the
    // mean output shift exactly, on the data whose mean it used.
    Scheme int4 = Scheme.of(DataType.INT4, true);
    float[] w = {0.31f, -0.77f, 0.12f, 0.05f, 0.66f, -0.2f};
    long[] dims = {3, 2};
    QuantParams p =
        int4.params(WeightRanges.of(w, dims, 1, int4, Recipe.WeightMethod.MINMAX, 99.99), 1);
    float[] dq = p.dequantize(p.quantize(w, dims), dims);
    float[][] xs = {{3f, 1f, -2f}, {5f, 2f, -1f}, {4f, 0f, -3f}};
    double[] mu = new double[3];
    for (float[] x : xs) {
      for (int k = 0; k < 3; k++) {
        mu[k] += x[k] / 3.0;
      }
    }
    float[] b =
        BiasCorrection.corrected(
            new float[] {0.5f, -0.5f}, BiasCorrection.matMulShift(w, dq, dims, false, mu), 1);
    for (int n = 0; n < 2; n++) {
      double before = 0;
      double after = 0;
      for (float[] x : xs) {
        double exact = 0.5 * (n == 0 ? 1 : -1);
        double quant = 0;
        for (int k = 0; k < 3; k++) {
          exact += x[k] * w[k * 2 + n];
          quant += x[k] * dq[k * 2 + n];
        }
        before += (quant + 0.5 * (n == 0 ? 1 : -1) - exact) / 3;
        after += (quant + b[n] - exact) / 3;
      }
      assertThat(Math.abs(before)).isGreaterThan(0.01);
      assertThat(after).isCloseTo(0, within(1e-6));
    }
  }
}

package io.quantguard.quantize;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.onnx.DataType;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GptqTest {
  /** ‖X (W − Ŵ)ᵀ‖² for weights laid out [rows, k] and inputs [n, k]. */
  private static double outputError(
      float[] x, int n, float[] w, BlockQuantization q, int rows, int k) {
    int blocks = q.blocks();
    double err = 0;
    for (int s = 0; s < n; s++) {
      for (int r = 0; r < rows; r++) {
        double d = 0;
        for (int c = 0; c < k; c++) {
          int b = r * blocks + c / q.block();
          double wq = (q.codes()[r * k + c] - q.zeroPoints()[b]) * (double) q.scales()[b];
          d += x[s * k + c] * (w[r * k + c] - wq);
        }
        err += d * d;
      }
    }
    return err;
  }

  @Test
  void compensatesRoundingErrorThroughCorrelatedInputs() {
    int k = 64;
    int rows = 16;
    int n = 512;
    Random rnd = new Random(3);
    // Correlated inputs with a few loud channels, as transformer activations have.
    float[] x = new float[n * k];
    for (int s = 0; s < n; s++) {
      double shared = rnd.nextGaussian();
      for (int c = 0; c < k; c++) {
        double loud = c % 16 == 0 ? 8 : 1;
        x[s * k + c] = (float) (loud * (0.7 * shared + 0.3 * rnd.nextGaussian()));
      }
    }
    float[] w = new float[rows * k];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) rnd.nextGaussian() * 0.05f;
    }
    ChannelStatistics stats = new ChannelStatistics(k, n * ChannelStatistics.GRAM_STRIDE);
    stats.add(x);
    assertThat(stats.gramRows())
        .isEqualTo(
            n / ChannelStatistics.GRAM_STRIDE + (n % ChannelStatistics.GRAM_STRIDE == 0 ? 0 : 1));
    Scheme uint4 = Scheme.of(DataType.UINT4, false);
    BlockQuantization rtn = BlockQuantization.of(w, rows, k, 32, uint4, Recipe.WeightMethod.MINMAX);
    BlockQuantization gptq = Gptq.quantize(w, rows, k, stats.gram(), 32, uint4);
    double rtnErr = outputError(x, n, w, rtn, rows, k);
    double gptqErr = outputError(x, n, w, gptq, rows, k);
    assertThat(gptqErr).isLessThan(0.7 * rtnErr);
    for (int code : gptq.codes()) {
      assertThat(code).isBetween(0, 15);
    }
  }
}

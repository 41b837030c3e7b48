package io.quantguard.quantize;

import static io.quantguard.quantize.QuantizedGraph.rows;
import static io.quantguard.quantize.QuantizedGraph.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TinyGraph;
import org.junit.jupiter.api.Test;

/**
 * The weight-only pass on x → MatMul w → Add bias → Relu, with the default uint4 affine blocks and
 * round-to-nearest (no calibration data): the MatMul and its bias become one
 * com.microsoft.MatMulNBits whose packed weight, block scales and zero points are worked out here
 * by hand, and ONNX Runtime reads them back to the dequantized weight exactly.
 */
class WeightOnlyPassTest {
  private static final String RECIPE = "mode: weight-only\nweights: {block_size: 16}";

  /**
   * W [k = 4, n = 2]. Column 0 is (−1.5, 0.3, 3, 0.9): range [−1.5, 3], s = 4.5 / 15 = 0.3, z =
   * round(1.5 / 0.3) = 5, codes round(w / s) + z = (0, 6, 15, 8). Column 1 is (−0.6, 0, 1.14, 2.4):
   * s = 3 / 15 = 0.2, z = 3, codes (0, 3, 9, 15) (1.14 / 0.2 = 5.7).
   */
  private static final float[][] W = {{-1.5f, -0.6f}, {0.3f, 0}, {3, 1.14f}, {0.9f, 2.4f}};

  private static final float[] SCALES = {(float) (4.5 / 15), (float) (3.0 / 15)};
  private static final int[] ZERO_POINTS = {5, 3};
  private static final int[][] CODES = {{0, 6, 15, 8}, {0, 3, 9, 15}};
  private static final float[] BIAS = {0.25f, -0.5f};

  private static OnnxModel graph() {
    return TinyGraph.input("x", -1, 4)
        .matMul("w", W)
        .add("bias", BIAS)
        .relu("act")
        .output("y")
        .model();
  }

  @Test
  void theMatMulAndItsBiasBecomeOneMatMulNBits() {
    QuantizedGraph q = QuantizedGraph.quantize(graph(), RECIPE, null);
    assertThat(q.model.graph().nodes())
        .extracting(Node::opType)
        .containsExactly("MatMulNBits", "Relu");
    Node n = q.producer("bias");
    assertThat(n.opType()).isEqualTo("MatMulNBits");
    assertThat(n.domain()).isEqualTo("com.microsoft");
    assertThat(n.intAttribute("K", 0)).isEqualTo(4);
    assertThat(n.intAttribute("N", 0)).isEqualTo(2);
    assertThat(n.intAttribute("bits", 0)).isEqualTo(4);
    assertThat(n.intAttribute("block_size", 0)).isEqualTo(16);
    // A, B, scales, zero points, g_idx (absent), bias
    assertThat(n.inputs()).hasSize(6);
    assertThat(n.input(0)).isEqualTo("x");
    assertThat(n.input(4)).isEmpty();
    assertThat(q.floats(n.input(5))).containsExactly(BIAS);
  }

  /**
   * B is [n, blocks, block / 2] bytes: each column of W is one row, its four codes padded to the
   * 16-value block with the zero point, two codes a byte, low nibble first: column 0 (0, 6 | 15, 8
   * | 5, 5 ...) gives 0x60, 0x8F, 0x55 × 6. Zero points are packed the same way, one byte a row
   * here.
   */
  @Test
  void packsNibblesLowFirstWithTheZeroPointAsPadding() {
    QuantizedGraph q = QuantizedGraph.quantize(graph(), RECIPE, null);
    Node n = q.producer("bias");
    assertThat(q.type(n.input(1))).isEqualTo(DataType.UINT8);
    assertThat(q.dims(n.input(1))).containsExactly(2, 1, 8);
    byte[] expected = new byte[16];
    for (int col = 0; col < 2; col++) {
      for (int i = 0; i < 16; i++) {
        int code = i < 4 ? CODES[col][i] : ZERO_POINTS[col];
        expected[col * 8 + i / 2] |= (byte) (code << (4 * (i % 2)));
      }
    }
    assertThat(expected[0]).isEqualTo((byte) 0x60);
    assertThat(expected[1]).isEqualTo((byte) 0x8F);
    assertThat(expected[2]).isEqualTo((byte) 0x55);
    assertThat(q.bytes(n.input(1))).containsExactly(expected);
    assertThat(q.floats(n.input(2))).containsExactly(SCALES);
    assertThat(q.bytes(n.input(3))).containsExactly(0x05, 0x03);
  }

  /**
   * ONNX Runtime computes relu(x · Ŵ + b) with Ŵ_kc = (code − z_c) · s_c, the weight as packed here
   * (to float rounding), and that is close to the float model. At accuracy level 4 it may also
   * quantize x to int8 per block of 16 along k, with scale max |x| / 127; each row of x here is a
   * multiple of 1/64 with max |x| = 127/64, which that rounding keeps exactly, so the comparison
   * can be tight whether or not the CPU takes the int8 path.
   */
  @Test
  void onnxRuntimeReadsTheBlocksBackAsTheDequantizedWeight() {
    OnnxModel fp32 = graph();
    QuantizedGraph q = QuantizedGraph.quantize(fp32, RECIPE, null);
    float[][] x = {
      {127 / 64f, -32 / 64f, 16 / 64f, 64 / 64f},
      {-127 / 64f, 64 / 64f, 32 / 64f, -48 / 64f},
      {127 / 64f, 13 / 64f, -7 / 64f, 0}
    };
    float[][] dequantized = new float[4][2];
    for (int k = 0; k < 4; k++) {
      for (int c = 0; c < 2; c++) {
        dequantized[k][c] = (CODES[c][k] - ZERO_POINTS[c]) * SCALES[c];
      }
    }
    double[][] exact = QuantizedGraph.times(x, dequantized);
    float[] got = run(q.model, rows(x));
    float[] fp = run(fp32, rows(x));
    for (int r = 0; r < x.length; r++) {
      for (int c = 0; c < 2; c++) {
        double want = Math.max(0, exact[r][c] + BIAS[c]);
        assertThat(got[r * 2 + c]).isCloseTo((float) want, within(1e-5f));
        // each weight is within half a step (≤ 0.15) of W, and Σ_k |x_k| ≤ 4 in every row
        assertThat(got[r * 2 + c]).isCloseTo(fp[r * 2 + c], within(0.15f * 4));
      }
    }
  }
}

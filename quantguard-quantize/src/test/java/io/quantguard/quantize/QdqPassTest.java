package io.quantguard.quantize;

import static io.quantguard.quantize.QuantizedGraph.calibration;
import static io.quantguard.quantize.QuantizedGraph.rows;
import static io.quantguard.quantize.QuantizedGraph.run;
import static io.quantguard.quantize.QuantizedGraph.times;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TinyGraph;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.DataSource;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The static QDQ pass on graphs of four or five nodes, through {@link Quantizer} with the default
 * static recipe (uint8 affine min/max activations, int8 symmetric per-channel weights): where the
 * quantizers go, which tensors share a scale, the weight, bias and activation parameters worked out
 * by hand, and what ONNX Runtime computes from the result.
 */
class QdqPassTest {
  private static final String STATIC = "mode: static";

  /** Four samples of x; its calibrated range is [−1, 3]. */
  private static final float[][] X = {{-1, 0.5f}, {3, -0.25f}, {0.5f, 2}, {1, 1}};

  private static final float[][] W_FC = {{0.5f, -1.0f, 0.25f}, {-0.2f, 0.8f, 2.0f}};
  private static final float[] B_FC = {0.1f, -0.3f, 0.05f};
  private static final float[][] W_PROJ = {{0.7f, -0.4f}, {0.3f, 0.9f}, {-0.6f, 0.2f}};

  /** x → Gemm fc → Relu act → MatMul proj → y. */
  private static OnnxModel chain() {
    return TinyGraph.input("x", -1, 2)
        .gemm("fc", W_FC, B_FC)
        .relu("act")
        .matMul("proj", W_PROJ)
        .output("y")
        .model();
  }

  /**
   * The quantizers sit on the inputs of the quantized operators, x and act; the ReLU is folded (no
   * pair on fc's output: ONNX Runtime fuses DQ → Gemm → Relu → Q), and the graph output stays
   * float.
   */
  @Test
  void quantizesTheOperatorInputsAndFoldsTheRelu() {
    QuantizedGraph q = QuantizedGraph.quantize(chain(), STATIC, calibration(X));
    assertThat(q.nodes("QuantizeLinear")).extracting(n -> n.input(0)).containsExactly("x", "act");
    assertThat(q.producer("act").opType()).isEqualTo("Relu");
    assertThat(q.producer(q.producer("act").input(0)).opType()).isEqualTo("Gemm");
    assertThat(q.producer("y").opType()).isEqualTo("MatMul");
    for (Node op : List.of(q.producer("fc"), q.producer("y"))) {
      assertThat(q.producer(op.input(0)).opType()).isEqualTo("DequantizeLinear");
      assertThat(q.producer(op.input(1)).opType()).isEqualTo("DequantizeLinear");
    }
    assertThat(q.report.quantizedNodesByOp()).containsOnlyKeys("Gemm", "MatMul");
  }

  /**
   * Activations, uint8 affine over the calibrated range widened to 0: s = (b − a) / 255, z =
   * round(−a / s). For x, [−1, 3]: s = 4 / 255, z = round(63.75) = 64. After the ReLU the range
   * starts at 0, so z = 0 and s = max / 255 with max the largest ReLU output on the samples.
   */
  @Test
  void activationScalesAndZeroPointsFollowTheCalibratedRange() {
    QuantizedGraph q = QuantizedGraph.quantize(chain(), STATIC, calibration(X));
    Node qx = q.quantizerOf("x").orElseThrow();
    assertThat(q.floats(qx.input(1))).containsExactly(4f / 255);
    assertThat(q.type(qx.input(2))).isEqualTo(DataType.UINT8);
    assertThat(q.ints(qx.input(2))).containsExactly(64);

    double max = 0;
    for (double[] row : times(X, W_FC)) {
      for (int c = 0; c < row.length; c++) {
        max = Math.max(max, row[c] + B_FC[c]);
      }
    }
    Node qact = q.quantizerOf("act").orElseThrow();
    assertThat(q.floats(qact.input(1))[0]).isCloseTo((float) (max / 255), within(1e-7f));
    assertThat(q.ints(qact.input(2))).containsExactly(0);
  }

  /**
   * Weights, int8 symmetric per output channel (axis 1 of a [k, n] Gemm or MatMul weight): s_c =
   * max_k |W_kc| / 127, q = round(W / s_c). For W_fc: s = (0.5, 1, 2) / 127 and q = [[127, −127,
   * 16], [−51, 102, 127]] (0.25 · 127 / 2 = 15.875, −0.2 · 127 / 0.5 = −50.8, 0.8 · 127 = 101.6).
   */
  @Test
  void weightsArePerChannelInt8AlongTheOutputAxis() {
    QuantizedGraph q = QuantizedGraph.quantize(chain(), STATIC, calibration(X));
    Node dq = q.producer(q.producer("fc").input(1));
    assertThat(dq.intAttribute("axis", -1)).isEqualTo(1);
    assertThat(q.type(dq.input(0))).isEqualTo(DataType.INT8);
    assertThat(q.dims(dq.input(0))).containsExactly(2, 3);
    assertThat(q.ints(dq.input(0))).containsExactly(127, -127, 16, -51, 102, 127);
    assertThat(q.floats(dq.input(1))).containsExactly(0.5f / 127, 1f / 127, 2f / 127);
    assertThat(q.ints(dq.input(2))).containsExactly(0, 0, 0);
    assertThat(q.report.quantizedWeights()).isEqualTo(2);
  }

  /** The bias is int32 with scale s_x · s_w,c per channel, zero point 0: q = round(b / scale). */
  @Test
  void theBiasIsInt32WithScaleInputScaleTimesWeightScale() {
    QuantizedGraph q = QuantizedGraph.quantize(chain(), STATIC, calibration(X));
    Node fc = q.producer("fc");
    float sx = q.floats(q.quantizerOf("x").orElseThrow().input(1))[0];
    float[] sw = q.floats(q.producer(fc.input(1)).input(1));
    Node bias = q.producer(fc.input(2));
    assertThat(bias.opType()).isEqualTo("DequantizeLinear");
    assertThat(bias.intAttribute("axis", -1)).isEqualTo(0);
    assertThat(q.type(bias.input(0))).isEqualTo(DataType.INT32);
    float[] scale = q.floats(bias.input(1));
    long[] quantized = q.ints(bias.input(0));
    for (int c = 0; c < 3; c++) {
      assertThat(scale[c]).isEqualTo(sx * sw[c]);
      assertThat(quantized[c]).isEqualTo((long) Math.rint(B_FC[c] / scale[c]));
    }
    assertThat(q.ints(bias.input(2))).containsExactly(0, 0, 0);
  }

  @Test
  void runsInOnnxRuntimeCloseToFp32() {
    OnnxModel fp32 = chain();
    QuantizedGraph q = QuantizedGraph.quantize(fp32, STATIC, calibration(X));
    float[] want = run(fp32, rows(X));
    float[] got = run(q.model, rows(X));
    float sAct = q.floats(q.quantizerOf("act").orElseThrow().input(1))[0];
    for (int i = 0; i < want.length; i++) {
      // act is rounded to half a step of its scale, times |W_proj| ≤ 0.9 summed over 3 inputs,
      // plus the smaller rounding of x and of the weights: a few steps in all.
      assertThat(got[i]).isCloseTo(want[i], within(4 * sAct));
    }
  }

  /**
   * x → MatMul a → Transpose t ─┐, x → MatMul b ─┴→ Concat cat → MatMul c: a Concat's inputs and
   * output share one scale, and so do a data-movement node's input and output, so a, t, b and cat
   * take one range, the union of a's and b's (t is a rearrangement of a).
   */
  @Test
  void dataMovementAndConcatShareOneScale() {
    float[][] wa = {{1, -2}, {0.5f, 1}};
    float[][] wb = {{-0.5f, 0.25f}, {2, -1}};
    OnnxModel fp32 =
        TinyGraph.input("x", -1, 2)
            .matMul("a", wa)
            .transpose("t", 0, 1)
            .from("x")
            .matMul("b", wb)
            .concat("cat", 1, "t", "b")
            .matMul("c", new float[][] {{1}, {-1}, {0.5f}, {2}})
            .output("y")
            .model();
    QuantizedGraph q = QuantizedGraph.quantize(fp32, STATIC, calibration(X));
    assertThat(q.nodes("QuantizeLinear"))
        .extracting(n -> n.input(0))
        .containsExactlyInAnyOrder("x", "a", "t", "b", "cat");
    String shared = q.quantizerOf("cat").orElseThrow().input(1);
    for (String t : List.of("a", "t", "b")) {
      assertThat(q.quantizerOf(t).orElseThrow().input(1)).as("scale of %s", t).isEqualTo(shared);
    }
    assertThat(q.quantizerOf("x").orElseThrow().input(1)).isNotEqualTo(shared);

    double min = 0;
    double max = 0;
    for (double[][] y : List.of(times(X, wa), times(X, wb))) {
      for (double[] row : y) {
        for (double v : row) {
          min = Math.min(min, v);
          max = Math.max(max, v);
        }
      }
    }
    assertThat(q.floats(shared)[0]).isCloseTo((float) ((max - min) / 255), within(1e-7f));
    assertThat(q.producer("t").opType()).isEqualTo("Transpose");
    assertThat(q.producer(q.producer("t").input(0)).opType()).isEqualTo("DequantizeLinear");
  }

  /**
   * A residual join of two quantized convolutions is quantized with the default op_types, so the
   * integer chain stays unbroken; a recipe that names its own op_types keeps it in float.
   */
  @Test
  void residualJoinOfQuantizedConvolutionsIsQuantizedByDefault() {
    OnnxModel fp32 =
        TinyGraph.input("x", -1, 2, 3, 3)
            .conv1x1("a", 2, 1)
            .relu("r")
            .conv1x1("b", 2, 2)
            .add("sum", "r")
            .conv1x1("c", 2, 3)
            .output("y")
            .model();
    float[][] images = new float[4][18];
    for (int i = 0; i < images.length; i++) {
      for (int j = 0; j < 18; j++) {
        images[i][j] = (float) Math.sin(i * 18 + j);
      }
    }
    float[] flat = new float[4 * 18];
    for (int i = 0; i < 4; i++) {
      System.arraycopy(images[i], 0, flat, i * 18, 18);
    }
    DataSource data =
        DataSource.of(
            "images",
            List.of(new Batch(Map.of("x", Tensor.ofFloats(flat, 4, 2, 3, 3)), null, null, 0)));
    QuantizedGraph q = QuantizedGraph.quantize(fp32, STATIC, data);
    assertThat(q.report.quantizedNodesByOp()).containsEntry("Add", 1).containsEntry("Conv", 3);
    assertThat(q.report.notes()).anyMatch(n -> n.contains("1 residual Add"));
    assertThat(q.producer(q.producer("sum").input(0)).opType()).isEqualTo("DequantizeLinear");
    QuantizedGraph own = QuantizedGraph.quantize(fp32, STATIC + "\nop_types: [Conv]", data);
    assertThat(own.report.quantizedNodesByOp()).doesNotContainKey("Add");
  }
}

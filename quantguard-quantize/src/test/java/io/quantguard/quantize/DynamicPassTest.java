package io.quantguard.quantize;

import static io.quantguard.quantize.QuantizedGraph.rows;
import static io.quantguard.quantize.QuantizedGraph.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.quantguard.onnx.CpuFeatures;
import io.quantguard.onnx.DataType;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TinyGraph;
import org.junit.jupiter.api.Test;

/**
 * The dynamic pass on a five-node graph, with no calibration data: every MatMul or Gemm with a
 * constant weight becomes com.microsoft.MatMulIntegerToFloat fed by one DynamicQuantizeLinear per
 * activation, with int8 symmetric per-column weights and the bias folded in; activation ×
 * activation arithmetic stays float.
 */
class DynamicPassTest {
  /**
   * What the tests that run the model in ONNX Runtime add to their recipes: 7-bit weights where the
   * CPU's uint8 × int8 kernels saturate in 16 bits (no VNNI), so that they measure the
   * quantization, not the kernel.
   */
  private static final String EXACT =
      CpuFeatures.detect().u8s8Saturates() ? "weights: {reduce_range: true}\n" : "";

  private static final float[][] W_A = {{0.5f, -1.0f, 0.25f}, {-0.2f, 0.8f, 2.0f}};
  private static final float[] B_A = {0.1f, -0.3f, 0.05f};
  private static final float[][] W_SIDE = {{1, 0.5f, -0.5f}, {0.25f, -1, 0.75f}};
  private static final float[][] W_G = {{0.7f, -0.4f}, {0.3f, 0.9f}, {-0.6f, 0.2f}};
  private static final float[] B_G = {0.5f, -0.5f};

  /** x → MatMul a → Add ab (+ bias) ─┐, x → MatMul side ─┴→ Add sum → Gemm g → y. */
  private static OnnxModel graph() {
    return TinyGraph.input("x", -1, 2)
        .matMul("a", W_A)
        .add("ab", B_A)
        .from("x")
        .matMul("side", W_SIDE)
        .add("sum", "ab")
        .gemm("g", W_G, B_G)
        .output("y")
        .model();
  }

  private static QuantizedGraph quantized() {
    return QuantizedGraph.quantize(graph(), "mode: dynamic", null);
  }

  @Test
  void eachWeightedProductBecomesMatMulIntegerToFloatWithItsBiasFolded() {
    QuantizedGraph q = quantized();
    assertThat(q.model.graph().nodes())
        .extracting(Node::opType)
        .containsOnly("DynamicQuantizeLinear", "MatMulIntegerToFloat", "Add");
    assertThat(q.nodes("MatMulIntegerToFloat"))
        .allMatch(n -> n.domain().equals("com.microsoft"))
        .extracting(Node::name)
        .containsExactlyInAnyOrder("a", "side", "g");
    assertThat(q.model.opset("com.microsoft")).isEqualTo(1);

    // a's bias Add is folded: the fused node writes "ab" and reads the bias as input 6
    Node a = q.producer("ab");
    assertThat(a.name()).isEqualTo("a");
    assertThat(a.inputs()).hasSize(7);
    assertThat(q.floats(a.input(6))).containsExactly(B_A);
    assertThat(q.producer("y").name()).isEqualTo("g");
    assertThat(q.floats(q.producer("y").input(6))).containsExactly(B_G);
    assertThat(q.producer("side").inputs()).hasSize(6);

    // activation + activation stays float
    Node sum = q.producer("sum");
    assertThat(sum.opType()).isEqualTo("Add");
    assertThat(sum.inputs()).containsExactly("side", "ab");
  }

  /**
   * One DynamicQuantizeLinear per activation: a and side read x through the same one (the query,
   * key and value projections of a transformer do the same), g reads sum through its own. Inputs of
   * MatMulIntegerToFloat: A, B, A scale, B scale, A zero point, B zero point, bias.
   */
  @Test
  void productsOfOneActivationShareItsDynamicQuantizer() {
    QuantizedGraph q = quantized();
    assertThat(q.nodes("DynamicQuantizeLinear"))
        .extracting(n -> n.input(0))
        .containsExactlyInAnyOrder("x", "sum");
    Node dqlX = q.producer(q.producer("ab").input(0));
    assertThat(dqlX.input(0)).isEqualTo("x");
    for (String out : new String[] {"ab", "side"}) {
      Node n = q.producer(out);
      assertThat(n.input(0)).isEqualTo(dqlX.output(0));
      assertThat(n.input(2)).isEqualTo(dqlX.output(1));
      assertThat(n.input(4)).isEqualTo(dqlX.output(2));
    }
    assertThat(q.producer(q.producer("y").input(0)).input(0)).isEqualTo("sum");
  }

  /**
   * int8 symmetric, one scale per output column: s_c = max_k |W_kc| / 127, q = round(W / s_c); for
   * W_a that is s = (0.5, 1, 2) / 127, q = [[127, −127, 16], [−51, 102, 127]].
   */
  @Test
  void weightsAreInt8PerColumn() {
    QuantizedGraph q = quantized();
    Node a = q.producer("ab");
    assertThat(q.type(a.input(1))).isEqualTo(DataType.INT8);
    assertThat(q.dims(a.input(1))).containsExactly(2, 3);
    assertThat(q.ints(a.input(1))).containsExactly(127, -127, 16, -51, 102, 127);
    assertThat(q.floats(a.input(3))).containsExactly(0.5f / 127, 1f / 127, 2f / 127);
    assertThat(q.type(a.input(5))).isEqualTo(DataType.INT8);
    assertThat(q.ints(a.input(5))).containsExactly(0, 0, 0);
    assertThat(q.report.quantizedWeights()).isEqualTo(3);
  }

  @Test
  void runsInOnnxRuntimeCloseToFp32() {
    OnnxModel fp32 = graph();
    QuantizedGraph q = QuantizedGraph.quantize(fp32, EXACT + "mode: dynamic", null);
    float[][] x = {{-1, 0.5f}, {3, -0.25f}, {0.5f, 2}, {1, 1}};
    float[] want = run(fp32, rows(x));
    float[] got = run(q.model, rows(x));
    for (int i = 0; i < want.length; i++) {
      // uint8 activations over their row's range (about 0.02 a step here) and int8 weights:
      // a few hundredths after two products
      assertThat(got[i]).isCloseTo(want[i], within(0.08f));
    }
  }

  /**
   * With per_token each MatMul/Gemm reads its activation through one shared row quantizer (Abs,
   * ReduceMax over the last axis, scale = max / 127, QuantizeLinear with zero point 128) and
   * becomes MatMulIntegerToFloat with an activation scale of 1 and the column scales, its output
   * multiplied by the row scales, the bias added last.
   */
  @Test
  void perTokenScalesEachRowAfterTheIntegerProduct() {
    QuantizedGraph q =
        QuantizedGraph.quantize(graph(), "mode: dynamic\nactivations: {per_token: true}", null);
    assertThat(q.nodes("DynamicQuantizeLinear")).isEmpty();
    assertThat(q.nodes("MatMulIntegerToFloat"))
        .extracting(Node::name)
        .containsExactlyInAnyOrder("a", "side", "g");
    assertThat(q.nodes("ReduceMax")).hasSize(2); // one per activation: x and sum
    Node bias = q.producer("ab");
    assertThat(bias.opType()).isEqualTo("Add");
    assertThat(q.floats(bias.input(1))).containsExactly(B_A);
    Node rows = q.producer(bias.input(0));
    assertThat(rows.opType()).isEqualTo("Mul");
    Node a = q.producer(rows.input(0));
    assertThat(a.name()).isEqualTo("a");
    assertThat(a.inputs()).hasSize(6);
    Node quantizer = q.producer(a.input(0));
    assertThat(quantizer.opType()).isEqualTo("QuantizeLinear");
    assertThat(q.floats(a.input(2))).containsExactly(1f);
    assertThat(q.floats(a.input(3))).containsExactly(0.5f / 127, 1f / 127, 2f / 127);
    assertThat(q.ints(a.input(4))).containsExactly(128);
    assertThat(q.ints(a.input(1))).containsExactly(127, -127, 16, -51, 102, 127);
    // the row scale that divides the activation is the one that multiplies the product
    assertThat(rows.input(1)).isEqualTo(q.producer(quantizer.input(0)).input(1));
  }

  /**
   * Rows five orders of magnitude apart: one scale for the tensor leaves the small rows a few
   * levels at most, a scale per row keeps each to within a step of its own range.
   */
  @Test
  void perTokenKeepsSmallRowsThatOneTensorScaleLoses() {
    OnnxModel fp32 = TinyGraph.input("x", -1, 2).matMul("a", W_A).output("y").model();
    float[][] x = {{400, -300}, {0.01f, 0.02f}, {-0.015f, 0.005f}};
    float[] want = run(fp32, rows(x));
    float[] tensor =
        run(QuantizedGraph.quantize(fp32, EXACT + "mode: dynamic", null).model, rows(x));
    float[] token =
        run(
            QuantizedGraph.quantize(
                    fp32, EXACT + "mode: dynamic\nactivations: {per_token: true}", null)
                .model,
            rows(x));
    double tensorError = 0;
    double tokenError = 0;
    double norm = 0;
    for (int i = 3; i < want.length; i++) { // the two small rows
      tensorError += Math.abs(tensor[i] - want[i]);
      tokenError += Math.abs(token[i] - want[i]);
      norm += Math.abs(want[i]);
    }
    assertThat(tokenError / norm).isLessThan(0.03);
    assertThat(tensorError / norm).isGreaterThan(0.3);
    for (int i = 0; i < 3; i++) {
      assertThat(token[i]).isCloseTo(want[i], within(Math.abs(want[i]) * 0.02f + 0.01f));
    }
  }

  @Test
  void perTokenRunsInOnnxRuntimeCloseToFp32() {
    OnnxModel fp32 = graph();
    QuantizedGraph q =
        QuantizedGraph.quantize(
            fp32, EXACT + "mode: dynamic\nactivations: {per_token: true}", null);
    float[][] x = {{-1, 0.5f}, {3, -0.25f}, {0.5f, 2}, {1, 1}, {0, 0}};
    float[] want = run(fp32, rows(x));
    float[] got = run(q.model, rows(x));
    for (int i = 0; i < want.length; i++) {
      assertThat(got[i]).isCloseTo(want[i], within(0.05f));
    }
  }
}

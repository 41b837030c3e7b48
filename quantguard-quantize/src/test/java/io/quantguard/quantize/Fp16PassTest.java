package io.quantguard.quantize;

import static io.quantguard.quantize.QuantizedGraph.rows;
import static io.quantguard.quantize.QuantizedGraph.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.Float16;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TinyGraph;
import org.junit.jupiter.api.Test;

/**
 * The float16 pass on x → MatMul a → Add mask → Softmax s → MatMul b → y: the MatMuls and the Add
 * run in half precision with float16 constants, the Softmax stays float32, the graph's input and
 * output stay float32, and a Cast sits at every border between the two.
 */
class Fp16PassTest {
  private static final float[][] W_A = {{0.5f, -1, 0.25f}, {-0.2f, 0.8f, 2}, {1.5f, 0.1f, -0.3f}};

  /** An attention-style mask: −1e9 is beyond float16 and must become −65504, not −∞. */
  private static final float[] MASK = {0, -1e9f, 0};

  private static final float[][] W_B = {{0.7f, -0.4f}, {0.3f, 0.9f}, {-0.6f, 0.2f}};

  private static OnnxModel graph() {
    return TinyGraph.input("x", -1, 3)
        .matMul("a", W_A)
        .add("mask", MASK)
        .softmax("s")
        .matMul("b", W_B)
        .output("y")
        .model();
  }

  private static QuantizedGraph quantized() {
    return QuantizedGraph.quantize(graph(), "mode: fp16", null);
  }

  @Test
  void castsAtTheEdgesAndAroundTheSoftmax() {
    QuantizedGraph q = quantized();
    // into the half-precision MatMul a
    Node toHalf = q.producer(q.producer("a").input(0));
    assertThat(toHalf.opType()).isEqualTo("Cast");
    assertThat(toHalf.input(0)).isEqualTo("x");
    assertThat(toHalf.intAttribute("to", 0)).isEqualTo(DataType.FLOAT16.code());
    // out of the half-precision Add into the float32 Softmax
    Node toFloat = q.producer(q.producer("s").input(0));
    assertThat(toFloat.opType()).isEqualTo("Cast");
    assertThat(toFloat.input(0)).isEqualTo("mask");
    assertThat(toFloat.intAttribute("to", 0)).isEqualTo(DataType.FLOAT.code());
    // back to half for MatMul b
    Node back = q.producer(q.producer("y_fp16").input(0));
    assertThat(back.opType()).isEqualTo("Cast");
    assertThat(back.input(0)).isEqualTo("s");
    assertThat(back.intAttribute("to", 0)).isEqualTo(DataType.FLOAT16.code());
    // the graph output keeps its name and type: b writes y_fp16, a Cast writes y
    assertThat(q.producer("y_fp16").opType()).isEqualTo("MatMul");
    Node out = q.producer("y");
    assertThat(out.opType()).isEqualTo("Cast");
    assertThat(out.intAttribute("to", 0)).isEqualTo(DataType.FLOAT.code());
    assertThat(q.nodes("Cast")).hasSize(4);
    assertThat(q.report.quantizedNodesByOp()).containsEntry("float16 nodes", 3);
    assertThat(q.report.keptInFloat())
        .singleElement()
        .satisfies(
            k -> {
              assertThat(k.node()).isEqualTo("s");
              assertThat(k.reason()).contains("float32");
            });
  }

  @Test
  void constantsAreFloat16AndClampedToItsRange() {
    QuantizedGraph q = quantized();
    String wa = q.producer("a").input(1);
    assertThat(q.type(wa)).isEqualTo(DataType.FLOAT16);
    float[] stored = q.floats(wa);
    for (int i = 0; i < 9; i++) {
      float w = W_A[i / 3][i % 3];
      assertThat(stored[i]).isEqualTo(Float16.toFloat(Float16.fromFloat(w)));
    }
    String mask = q.producer("mask").input(1);
    assertThat(q.type(mask)).isEqualTo(DataType.FLOAT16);
    assertThat(q.floats(mask)).containsExactly(0, -65504, 0);
    assertThat(q.model.graph().initializers().values())
        .allMatch(t -> t.getDataType() == DataType.FLOAT16.code());
  }

  @Test
  void runsInOnnxRuntimeCloseToFp32() {
    OnnxModel fp32 = graph();
    float[][] x = {{-1, 0.5f, 2}, {3, -0.25f, 0}, {0.5f, 2, -1}};
    float[] want = run(fp32, rows(x));
    float[] got = run(quantized().model, rows(x));
    for (int i = 0; i < want.length; i++) {
      // float16 keeps 11 significant bits (relative error 2^-11 per rounding); the outputs are
      // below 1 in magnitude
      assertThat(got[i]).isCloseTo(want[i], within(5e-3f));
    }
  }
}

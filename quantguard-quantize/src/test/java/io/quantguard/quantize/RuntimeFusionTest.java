package io.quantguard.quantize;

import static io.quantguard.quantize.QuantizedGraph.rows;
import static io.quantguard.quantize.QuantizedGraph.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TinyGraph;
import org.junit.jupiter.api.Test;

/**
 * {@code optimize: onnxruntime} on a four-node graph: ONNX Runtime's optimizer fuses MatMul + Add +
 * Relu into its com.microsoft FusedGemm (float, which the dynamic pass leaves alone), and the
 * quantizer then works on the fused graph; the model records that it needs ONNX Runtime.
 */
class RuntimeFusionTest {
  private static final float[][] W_A = {{0.5f, -1.0f, 0.25f}, {-0.2f, 0.8f, 2.0f}};
  private static final float[] B_A = {0.1f, -0.3f, 0.05f};
  private static final float[][] W_B = {{0.7f, -0.4f}, {0.3f, 0.9f}, {-0.6f, 0.2f}};

  /** x → MatMul a → Add ab → Relu r → MatMul b → y. */
  private static OnnxModel graph() {
    return TinyGraph.input("x", -1, 2)
        .matMul("a", W_A)
        .add("ab", B_A)
        .relu("r")
        .matMul("b", W_B)
        .output("y")
        .model();
  }

  @Test
  void quantizesTheGraphOnnxRuntimeFused() {
    QuantizedGraph q =
        QuantizedGraph.quantize(graph(), "mode: dynamic\noptimize: onnxruntime", null);
    assertThat(q.model.graph().nodes())
        .extracting(n -> n.domain().isEmpty() ? n.opType() : n.domain() + ":" + n.opType())
        .containsExactlyInAnyOrder(
            "com.microsoft:FusedGemm",
            "DynamicQuantizeLinear",
            "com.microsoft:MatMulIntegerToFloat");
    Node fused = q.nodes("FusedGemm").get(0);
    assertThat(fused.stringAttribute("activation", "")).isEqualTo("Relu");
    assertThat(q.model.metadata())
        .containsEntry(
            RuntimeFusion.METADATA_KEY,
            RuntimeFusion.statement(RuntimeFusion.Optimizer.ONNXRUNTIME));
    assertThat(q.report.notes())
        .contains(RuntimeFusion.statement(RuntimeFusion.Optimizer.ONNXRUNTIME));
    assertThat(q.report.quantizedNodesByOp()).containsEntry("MatMul", 1);

    float[][] x = {{-1, 0.5f}, {3, -0.25f}, {0.5f, 2}, {1, 1}};
    float[] want = run(graph(), rows(x));
    float[] got = run(q.model, rows(x));
    for (int i = 0; i < want.length; i++) {
      assertThat(got[i]).isCloseTo(want[i], within(0.08f));
    }
  }

  @Test
  void withoutOptimizeTheGraphStaysAsWritten() {
    QuantizedGraph q = QuantizedGraph.quantize(graph(), "mode: dynamic", null);
    assertThat(q.nodes("FusedGemm")).isEmpty();
    assertThat(q.nodes("Relu")).hasSize(1);
    assertThat(q.model.metadata()).doesNotContainKey(RuntimeFusion.METADATA_KEY);
  }

  @Test
  void anUnknownOptimizerIsAnErrorNamingTheRecipeKey() {
    assertThatThrownBy(
            () -> QuantizedGraph.quantize(graph(), "mode: dynamic\noptimize: tensorrt", null))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("optimize")
        .hasMessageContaining("tensorrt")
        .hasMessageContaining("onnxruntime")
        .hasMessageContaining("transformer");
  }
}

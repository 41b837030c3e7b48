package io.quantguard.quantize;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TinyGraph;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The units tuning may move between precisions, found by walking the graph. */
class StaticGroupsTest {
  /**
   * x → MatMul a → Transpose → ┐ x → MatMul b ──────────────┴→ Concat → MatMul c → y: the Concat
   * shares one scale with both of its inputs, so a, b (through the Transpose) and the Concat form
   * one unit; c is a unit alone.
   */
  @Test
  void aConcatGoesWithTheProducersOfItsInputs() {
    OnnxModel m = model();
    Recipe recipe = Recipe.defaults();
    Calibration cal = Quantizer.calibrate(m, recipe, null, Quantizer.Options.defaults());
    assertThat(Quantizer.staticNodes(cal, recipe)).containsExactly("a", "b", "cat", "c");
    assertThat(Quantizer.staticGroups(cal, recipe))
        .containsExactly(List.of("a", "b", "cat"), List.of("c"));
  }

  @Test
  void withoutTheConcatEveryNodeIsItsOwnUnit() {
    OnnxModel m = model();
    Recipe noConcat = RecipeIO.parse("op_types: [MatMul]", "matmul only");
    Calibration cal = Quantizer.calibrate(m, noConcat, null, Quantizer.Options.defaults());
    assertThat(Quantizer.staticGroups(cal, noConcat))
        .containsExactly(List.of("a"), List.of("b"), List.of("c"));
  }

  private static OnnxModel model() {
    return TinyGraph.input("x", -1, 4)
        .matMul("a", 4, 1)
        .transpose("t", 0, 1)
        .from("x")
        .matMul("b", 4, 2)
        .concat("cat", 1, "t", "b")
        .matMul("c", 4, 3)
        .output("y")
        .model();
  }
}

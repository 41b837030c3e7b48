package io.quantguard.quantize;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.proto.Onnx.AttributeProto;
import io.quantguard.onnx.proto.Onnx.GraphProto;
import io.quantguard.onnx.proto.Onnx.ModelProto;
import io.quantguard.onnx.proto.Onnx.NodeProto;
import io.quantguard.onnx.proto.Onnx.OperatorSetIdProto;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import io.quantguard.onnx.proto.Onnx.TensorShapeProto;
import io.quantguard.onnx.proto.Onnx.TypeProto;
import io.quantguard.onnx.proto.Onnx.ValueInfoProto;
import java.util.List;
import java.util.SplittableRandom;
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
    OnnxModel m = ModelIO.load(model().toByteArray(), "concat");
    Recipe recipe = Recipe.defaults();
    Calibration cal = Quantizer.calibrate(m, recipe, null, Quantizer.Options.defaults());
    assertThat(Quantizer.staticNodes(cal, recipe)).containsExactly("a", "b", "cat", "c");
    assertThat(Quantizer.staticGroups(cal, recipe))
        .containsExactly(List.of("a", "b", "cat"), List.of("c"));
  }

  @Test
  void withoutTheConcatEveryNodeIsItsOwnUnit() {
    OnnxModel m = ModelIO.load(model().toByteArray(), "concat");
    Recipe noConcat = RecipeIO.parse("op_types: [MatMul]", "matmul only");
    Calibration cal = Quantizer.calibrate(m, noConcat, null, Quantizer.Options.defaults());
    assertThat(Quantizer.staticGroups(cal, noConcat))
        .containsExactly(List.of("a"), List.of("b"), List.of("c"));
  }

  private static ModelProto model() {
    return ModelProto.newBuilder()
        .setIrVersion(8)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
        .setGraph(
            GraphProto.newBuilder()
                .setName("concat")
                .addInput(matrix("x", 4))
                .addOutput(matrix("y", 4))
                .addInitializer(weight("Wa", 1))
                .addInitializer(weight("Wb", 2))
                .addInitializer(weight("Wc", 3, 8))
                .addNode(node("a", "MatMul", List.of("x", "Wa"), "ya"))
                .addNode(
                    node("t", "Transpose", List.of("ya"), "ta").toBuilder()
                        .addAttribute(
                            AttributeProto.newBuilder()
                                .setName("perm")
                                .setType(AttributeProto.AttributeType.INTS)
                                .addInts(0)
                                .addInts(1)))
                .addNode(node("b", "MatMul", List.of("x", "Wb"), "yb"))
                .addNode(
                    node("cat", "Concat", List.of("ta", "yb"), "cat_out").toBuilder()
                        .addAttribute(
                            AttributeProto.newBuilder()
                                .setName("axis")
                                .setType(AttributeProto.AttributeType.INT)
                                .setI(1)))
                .addNode(node("c", "MatMul", List.of("cat_out", "Wc"), "y")))
        .build();
  }

  private static NodeProto node(String name, String op, List<String> in, String out) {
    return NodeProto.newBuilder()
        .setName(name)
        .setOpType(op)
        .addAllInput(in)
        .addOutput(out)
        .build();
  }

  private static TensorProto weight(String name, int seed) {
    return weight(name, seed, 4);
  }

  private static TensorProto weight(String name, int seed, int rows) {
    SplittableRandom rnd = new SplittableRandom(seed);
    TensorProto.Builder w =
        TensorProto.newBuilder().setName(name).setDataType(1).addDims(rows).addDims(4);
    for (int i = 0; i < rows * 4; i++) {
      w.addFloatData((float) rnd.nextGaussian());
    }
    return w.build();
  }

  private static ValueInfoProto matrix(String name, int width) {
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(
                    TypeProto.Tensor.newBuilder()
                        .setElemType(1)
                        .setShape(
                            TensorShapeProto.newBuilder()
                                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("n"))
                                .addDim(
                                    TensorShapeProto.Dimension.newBuilder().setDimValue(width)))))
        .build();
  }
}

package io.quantguard.quantize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TestModels;
import io.quantguard.runtime.data.DataSpec;
import org.junit.jupiter.api.Test;

/** Bad recipes and bad calibration data give errors that name the input and the fix. */
class QuantizerErrorsTest {
  private static OnnxModel cnn() {
    return ModelIO.load(TestModels.fashionCnn());
  }

  private static void quantize(String recipe, String data) {
    Quantizer.quantize(
        cnn(),
        RecipeIO.parse(recipe, "recipe.yaml"),
        DataSpec.parse(data),
        Quantizer.Options.defaults());
  }

  private static String images() {
    return "idx:"
        + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz")
        + "?input=image&limit=64";
  }

  @Test
  void unknownRecipeKeysAreNamed() {
    assertThatThrownBy(() -> RecipeIO.parse("activations: {methd: entropy}", "r.yaml"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("unknown recipe key 'methd' at activations")
        .hasMessageContaining("method");
    assertThatThrownBy(() -> RecipeIO.parse("wieghts: {}", "r.yaml"))
        .hasMessageContaining("'wieghts'");
  }

  @Test
  void nodeNamesThatDoNotExistAreErrors() {
    assertThatThrownBy(() -> quantize("exclude: [no_such_node]", images()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("'no_such_node'")
        .hasMessageContaining("matches no node");
    assertThatThrownBy(
            () -> quantize("overrides: [{node_regex: '^zzz', precision: fp32}]", images()))
        .hasMessageContaining("node_regex '^zzz'");
    assertThatThrownBy(() -> quantize("overrides: [{node: x, op_type: Conv}]", images()))
        .hasMessageContaining("exactly one of");
  }

  @Test
  void badSettingsAreErrors() {
    assertThatThrownBy(() -> quantize("activations: {type: int3}", images()))
        .hasMessageContaining("int3");
    assertThatThrownBy(() -> quantize("activations: {method: magic}", images()))
        .hasMessageContaining("magic");
    assertThatThrownBy(() -> quantize("mode: turbo", images()))
        .hasMessageContaining("mode 'turbo' is not one of static, dynamic, weight-only, fp16");
    assertThatThrownBy(() -> quantize("mode: weight-only\nweights: {block_size: 48}", images()))
        .hasMessageContaining("block_size is 48");
  }

  @Test
  void fourBitActivationsThatWouldPassThroughDataMovementAreRefusedBeforeTheModelIsWritten() {
    String images = images(); // outside the lambda: a missing fixture skips, it is not the error
    // ONNX Runtime would drop the QDQ pair around the CNN's MaxPool and fail to load the model.
    assertThatThrownBy(() -> quantize("activations: {type: uint4}", images))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("activations.type")
        .hasMessageContaining("uint4")
        .hasMessageContaining("MaxPool")
        .hasMessageContaining("use 8-bit activations");
  }

  @Test
  void aModelWithNothingToQuantizeIsAnError() {
    assertThatThrownBy(() -> quantize("op_types: [LSTM]", images()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("has no operator the recipe quantizes");
  }

  @Test
  void calibrationDataThatDoesNotFitTheModelIsNamed() {
    String flat =
        "idx:"
            + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz")
            + "?input=image&limit=8&layout=flat";
    assertThatThrownBy(() -> quantize("{}", flat))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("'image'")
        .hasMessageContaining("784]")
        .hasMessageContaining("wants float[?, 1, 28, 28]");
  }

  @Test
  void nodeExclusionsKeepNodesInFloat() {
    OnnxModel m = cnn();
    String conv =
        m.graph().nodes().stream()
            .filter(n -> n.opType().equals("Conv"))
            .findFirst()
            .orElseThrow()
            .name();
    QuantizationResult r =
        Quantizer.quantize(
            m,
            RecipeIO.parse("exclude: ['" + conv + "']", "r"),
            DataSpec.parse(images()),
            Quantizer.Options.defaults());
    assertThat(r.report().quantizedNodesByOp().get("Conv")).isEqualTo(1);
    assertThat(r.report().keptInFloat())
        .anyMatch(s -> s.node().equals(conv) && s.reason().contains("excluded"));
  }

  @Test
  void smoothAndBiasCorrectionAreCheckedAndNeedChannelStatistics() {
    assertThatThrownBy(() -> quantize("smooth: 1.5", images()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("smooth is 1.5")
        .hasMessageContaining("[0, 1]");
    assertThatThrownBy(() -> quantize("overrides: [{op_type: Conv, smooth: 0.5}]", images()))
        .hasMessageContaining("overrides[0].smooth is set for op_type Conv")
        .hasMessageContaining("MatMul and Gemm, and to fused Attention");
    assertThatThrownBy(() -> quantize("overrides: [{node_regex: 'c1', smooth: 0.5}]", images()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("selects node '/net/c1/Conv', which is a Conv, not a MatMul or Gemm");
    assertThatThrownBy(() -> quantize("overrides: [{tensor: logits, smooth: 0.5}]", images()))
        .hasMessageContaining("tensor selector");
    // A calibration that kept no per-channel statistics cannot serve a recipe that needs them.
    Calibration cal =
        Quantizer.calibrate(
            cnn(),
            RecipeIO.parse("calibration: {channels: false}", "plain.yaml"),
            DataSpec.parse(images()),
            Quantizer.Options.defaults());
    assertThatThrownBy(
            () ->
                Quantizer.quantize(
                    cal,
                    RecipeIO.parse("overrides: [{node: /net/f2/Gemm, smooth: 0.5}]", "s.yaml"),
                    Quantizer.Options.defaults()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("smooths node '/net/f2/Gemm'")
        .hasMessageContaining("'/net/r3/Relu_output_0'")
        .hasMessageContaining("calibration: {channels: true}");
    assertThatThrownBy(
            () ->
                Quantizer.quantize(
                    cal,
                    RecipeIO.parse("weights: {bias_correction: true}", "b.yaml"),
                    Quantizer.Options.defaults()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("bias-corrects")
        .hasMessageContaining("calibration: {channels: true}");
  }
}

package io.quantguard.quantize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TestModels;
import io.quantguard.runtime.data.DataSource;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The static pass as plan → activation ranges → rewrite, on the Fashion-MNIST CNN at W4A8 (the
 * shipped recipe): the plan says where every quantizer goes, and ranges given from outside (what a
 * quantization-aware training hands back) are written as they are: the calibration's own ranges,
 * given, make the same graph as quantizing with the calibration.
 */
class ActivationRangesTest {
  private static OnnxModel cnn;
  private static Recipe recipe;
  private static DataSource data;
  private static Calibration calibration;
  private static QdqPlan plan;

  @BeforeAll
  static void calibrate() {
    cnn = ModelIO.load(TestModels.fashionCnn());
    recipe = RecipeIO.read(Path.of("..", "recipes", "cnn-w4a8.yaml"));
    data =
        DataSpec.parse(
            "idx:"
                + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz")
                + "?input=image&limit=300");
    calibration = Quantizer.calibrate(cnn, recipe, data, Quantizer.Options.defaults());
    plan = Quantizer.staticPlan(calibration, recipe);
  }

  @Test
  void thePlanNamesEveryQuantizerWithItsScheme() {
    assertThat(plan.weights()).hasSize(4);
    assertThat(plan.weights())
        .allSatisfy(
            w -> {
              assertThat(w.scheme()).isEqualTo(Scheme.of(DataType.INT4, true));
              assertThat(w.axis()).isNotNegative();
              assertThat(cnn.graph().isInitializer(w.initializer())).isTrue();
            });
    // MaxPool and Reshape share their input's scale: fewer groups than tensors
    assertThat(plan.groups().size()).isLessThan(plan.activations().size());
    assertThat(plan.groups().stream().flatMap(g -> g.members().stream()))
        .containsExactlyInAnyOrderElementsOf(plan.activations());
    assertThat(plan.groups()).allMatch(g -> g.scheme().type() == DataType.UINT8);
    assertThat(plan.smooths()).isFalse();
    assertThat(plan.correctsBias()).isFalse();
  }

  @Test
  void givenRangesAreWrittenAsTheyAre() {
    ActivationRanges calibrated = ActivationRanges.calibrated(calibration);
    Map<String, QuantParams> byTensor = new HashMap<>();
    for (QdqPlan.Group g : plan.groups()) {
      QuantParams p = calibrated.params(g);
      g.members().forEach(t -> byTensor.put(t, p));
    }
    OnnxModel fromStatistics =
        Quantizer.quantize(calibration, recipe, Quantizer.Options.defaults()).model();
    Calibration typesOnly =
        Quantizer.calibrate(
            Quantizer.planCalibration(cnn, recipe, data, Quantizer.Options.defaults()),
            null,
            Quantizer.Options.defaults());
    OnnxModel fromGiven =
        Quantizer.quantize(
                typesOnly, recipe, ActivationRanges.given(byTensor), Quantizer.Options.defaults())
            .model();
    assertThat(fromGiven.toProto().getGraph()).isEqualTo(fromStatistics.toProto().getGraph());

    // doubled scales land in the model as given
    String tensor = plan.groups().get(0).anchor();
    QuantParams p = byTensor.get(tensor);
    Map<String, QuantParams> doubled = new HashMap<>(byTensor);
    for (String t : plan.groups().get(0).members()) {
      doubled.put(
          t, new QuantParams(p.scheme(), new float[] {p.scale()[0] * 2}, p.zeroPoint(), -1));
    }
    OnnxModel changed =
        Quantizer.quantize(
                typesOnly, recipe, ActivationRanges.given(doubled), Quantizer.Options.defaults())
            .model();
    String scale =
        changed.graph().nodes().stream()
            .filter(n -> n.opType().equals("QuantizeLinear") && n.input(0).equals(tensor))
            .findFirst()
            .orElseThrow()
            .input(1);
    assertThat(changed.floats(scale)).containsExactly(p.scale()[0] * 2);
  }

  @Test
  void aMissingRangeIsAClearError() {
    Calibration typesOnly =
        Quantizer.calibrate(
            Quantizer.planCalibration(cnn, recipe, data, Quantizer.Options.defaults()),
            null,
            Quantizer.Options.defaults());
    String anchor = plan.groups().get(0).anchor();
    assertThatThrownBy(
            () ->
                Quantizer.quantize(
                    typesOnly,
                    recipe,
                    ActivationRanges.given(Map.of()),
                    Quantizer.Options.defaults()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("no range for tensor '" + anchor + "'");
  }
}

package io.quantguard.quantize;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TestModels;
import io.quantguard.runtime.data.DataSource;
import io.quantguard.runtime.data.DataSpec;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The plan {@link Quantizer#plan} shows before any work is what quantization then does: the same
 * nodes in the same forms, and the same nodes kept in float for the same reasons, on the CNN (every
 * mode) and on MiniLM.
 */
class QuantizationPlanTest {
  private static final String IMAGES =
      "idx:"
          + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz")
          + "?input=image&limit=64";

  @Test
  void cnnPlanMatchesWhatEachModeQuantizes() {
    OnnxModel cnn = ModelIO.load(TestModels.fashionCnn());
    for (String mode : new String[] {"static", "dynamic", "weight-only", "fp16"}) {
      Recipe recipe = RecipeIO.parse("mode: " + mode, mode);
      DataSource data = DataSpec.parse(IMAGES);
      QuantizationPlan plan = Quantizer.plan(cnn, recipe, data, Quantizer.Options.defaults());
      QuantizationResult done = Quantizer.quantize(cnn, recipe, data, Quantizer.Options.defaults());
      assertThat(plan.keptInFloat()).as(mode).isEqualTo(done.report().keptInFloat());
      Map<String, Integer> byOp = new TreeMap<>();
      plan.quantized().forEach(s -> byOp.merge(s.opType(), 1, Integer::sum));
      Map<String, Integer> reported = new TreeMap<>(done.report().quantizedNodesByOp());
      reported.keySet().removeIf(k -> !byOp.containsKey(k) && !k.equals("float16 nodes"));
      if (mode.equals("fp16")) {
        assertThat(plan.quantized()).hasSize(reported.get("float16 nodes"));
      } else {
        assertThat(byOp).as(mode).isEqualTo(reported);
      }
    }
  }

  @Test
  void dynamicModeSaysWhyConvolutionsStayInFloat() {
    OnnxModel cnn = ModelIO.load(TestModels.fashionCnn());
    QuantizationPlan plan =
        Quantizer.plan(
            cnn, RecipeIO.parse("mode: dynamic", "d"), null, Quantizer.Options.defaults());
    assertThat(plan.keptInFloat())
        .isNotEmpty()
        .allSatisfy(
            k -> {
              assertThat(k.opType()).isEqualTo("Conv");
              assertThat(k.reason()).contains("no fast kernel");
            });
    assertThat(plan.quantized())
        .isNotEmpty()
        .allSatisfy(s -> assertThat(s.form()).isEqualTo("MatMulIntegerToFloat"));
  }

  @Test
  void staticPlanWithoutDataSaysItNeedsCalibration() {
    OnnxModel cnn = ModelIO.load(TestModels.fashionCnn());
    QuantizationPlan plan =
        Quantizer.plan(
            cnn, RecipeIO.parse("mode: static", "s"), null, Quantizer.Options.defaults());
    assertThat(plan.countsByModeAndOp()).containsKey("static Conv");
    assertThat(plan.notes()).anyMatch(n -> n.contains("need calibration data"));
  }

  @Test
  void miniLmDynamicPlanCountsEveryMatMul() {
    OnnxModel miniLm = ModelIO.load(TestModels.miniLm());
    QuantizationPlan plan =
        Quantizer.plan(
            miniLm, RecipeIO.parse("mode: dynamic", "d"), null, Quantizer.Options.defaults());
    assertThat(plan.countsByModeAndOp()).containsEntry("dynamic MatMul", 36);
  }
}

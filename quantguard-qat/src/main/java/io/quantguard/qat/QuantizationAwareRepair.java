package io.quantguard.qat;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.quantize.Recipe;
import io.quantguard.tune.TrainingRepair;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * Quantization-aware training as the tuner's repair ({@link TrainingRepair}, found through {@code
 * META-INF/services}): distils from the FP32 model, because the tuner's calibration data has no
 * labels, with the recipe's quantizers in the loop and their calibrated ranges frozen (the tuner
 * calibrates the trained model again like any other, so frozen ranges keep training and measurement
 * close). The data is repeated as often as the step budget needs.
 */
public final class QuantizationAwareRepair implements TrainingRepair {
  /** The batch size of QAT's own default: the one its CNN figures were measured with. */
  private static final int BATCH_SIZE = 64;

  @Override
  public Result train(Request r) {
    List<Recipe.Override> overrides = r.recipe().overrides();
    if (r.recipe().smooth() != null
        || (overrides != null && overrides.stream().anyMatch(o -> o.smooth() != null))) {
      // Training smooths the graph it trains; the tuner measures the trained FP32 model with the
      // recipe, whose smoothing would rewrite that graph a second time.
      throw InvalidInputException.forParameter(
          "smooth",
          r.recipe().smooth(),
          "rewrites the trained model again when the tuner quantizes it with this recipe",
          "tune without SmoothQuant in the recipe, or train it with `quantguard qat`");
    }
    QuantizationAwareTraining.Result q =
        QuantizationAwareTraining.builder(r.fp32(), r.recipe())
            .data(r.data())
            .distill(true)
            .batchSize(BATCH_SIZE)
            .epochs(epochs(r.data().size(), r.steps()))
            .maxSteps(r.steps())
            .seed(r.seed())
            .options(r.options())
            .run();
    FineTuning.Result t = q.training();
    return new Result(
        q.trained(),
        t.steps(),
        String.format(
            Locale.ROOT,
            "%d steps distilled from FP32 (KL divergence of the outputs) on the calibration data,"
                + " loss %.4f → %.4f",
            t.steps(),
            t.firstLoss(),
            t.lastLoss()));
  }

  /** Enough passes over the data for {@code steps}; one when its size is unknown. */
  private static int epochs(OptionalLong samples, long steps) {
    if (samples.isEmpty() || samples.getAsLong() == 0) {
      return 1;
    }
    long perEpoch = (samples.getAsLong() + BATCH_SIZE - 1) / BATCH_SIZE;
    return (int) Math.min(Integer.MAX_VALUE, Math.max(1, (steps + perEpoch - 1) / perEpoch));
  }
}

package io.quantguard.tune;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.runtime.data.DataSource;
import java.util.ServiceLoader;

/**
 * Quantization-aware training as the tuner's last repair before higher precision: fine-tunes the
 * FP32 weights with the recipe's quantizers in the loop and hands the trained FP32 model back. The
 * training engine (libtorch, about 112 MB) lives in {@value #MODULE}; the tuner finds it through
 * {@link ServiceLoader}, so this module does not carry it and tuning without this repair does not
 * need it.
 */
public interface TrainingRepair {
  /** The module that provides the implementation. */
  String MODULE = "io.quantguard:quantguard-qat";

  /**
   * What to train.
   *
   * @param fp32 the FP32 model
   * @param recipe the recipe the candidate is quantized with; its static part is trained
   * @param data the tuner's calibration data: inputs without labels, so the training distils from
   *     the FP32 model
   * @param steps the most training steps
   */
  record Request(
      OnnxModel fp32,
      Recipe recipe,
      DataSource data,
      long steps,
      long seed,
      Quantizer.Options options) {}

  /**
   * What the training made.
   *
   * @param trained the FP32 model with the fine-tuned weights written back: the tuner calibrates
   *     and quantizes it like the original
   * @param steps the steps it took
   * @param description one line for the tuning report and the recipe's rationale
   */
  record Result(OnnxModel trained, long steps, String description) {}

  Result train(Request request);

  /**
   * The implementation on the class path.
   *
   * @throws InvalidInputException when none is: the tuning was asked for this repair without the
   *     module that provides it
   */
  static TrainingRepair find() {
    return ServiceLoader.load(TrainingRepair.class, TrainingRepair.class.getClassLoader())
        .findFirst()
        .orElseThrow(
            () ->
                InvalidInputException.forParameter(
                    "tune.repairs",
                    "qat",
                    "asks for quantization-aware training, which the module "
                        + MODULE
                        + " provides, and it is not on the class path",
                    "add "
                        + MODULE
                        + " (it carries libtorch) to the class path, or tune without the qat"
                        + " repair"));
  }
}

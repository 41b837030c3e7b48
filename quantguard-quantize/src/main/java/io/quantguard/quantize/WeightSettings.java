package io.quantguard.quantize;

/**
 * How one node's constant weights are quantized, as {@link RecipeResolver} parsed it from the
 * recipe.
 *
 * @param scheme integer type, symmetric or affine, reduced range
 * @param perChannel one scale per output channel (static and dynamic modes)
 * @param method how a range is computed from the weights
 * @param percentile for {@link Recipe.WeightMethod#PERCENTILE}
 * @param blockSize weight-only mode: values per scale along the reduction axis
 * @param algorithm weight-only mode: how the blocks are rounded
 * @param format weight-only mode: the operator that reads the blocks
 * @param biasCorrection static mode: correct the bias for the mean output shift of the weights
 */
record WeightSettings(
    Scheme scheme,
    boolean perChannel,
    Recipe.WeightMethod method,
    double percentile,
    int blockSize,
    Algorithm algorithm,
    Format format,
    boolean biasCorrection) {

  /** How weight-only blocks are rounded. */
  enum Algorithm {
    /** GPTQ when the calibration collected the activation Gram matrix, else RTN. */
    AUTO,
    /** Round to nearest. */
    RTN,
    /** Activation-aware scales (needs per-channel calibration statistics, else RTN). */
    AWQ,
    /** Error compensation through the activation Hessian (needs the Gram matrix, else RTN). */
    GPTQ;

    String spelling() {
      return Spelling.of(this);
    }
  }

  /** The operator that reads weight-only blocks. */
  enum Format {
    /** ONNX Runtime's {@code com.microsoft.MatMulNBits}. */
    NBITS,
    /** The standard DequantizeLinear with a block size (opset 21). */
    QDQ;

    String spelling() {
      return Spelling.of(this);
    }
  }
}

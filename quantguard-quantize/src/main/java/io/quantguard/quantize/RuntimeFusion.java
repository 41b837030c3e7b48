package io.quantguard.quantize;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The recipe's {@code optimize} step: ONNX Runtime's graph optimizer fuses the FP32 model (extended
 * level: LayerNormalization, Gelu/BiasGelu, MatMul with its scale as FusedMatMul, and Attention or
 * SkipLayerNormalization where its patterns match) before anything is planned, calibrated or
 * quantized, so the passes quantize the fused graph and the fused float operators run in the
 * result. The result is still a standard ONNX file, but its {@code com.microsoft} operators (and
 * ONNX Runtime's LayerNormalization under opsets older than 17) tie it to ONNX Runtime; the model
 * says so in {@code metadata_props} ({@value #METADATA_KEY}).
 */
final class RuntimeFusion {
  /** The metadata key a fused model carries. */
  static final String METADATA_KEY = "quantguard.runtime";

  /**
   * The graph optimizers {@code optimize} can name: ONNX Runtime's, and ONNX Runtime's followed by
   * QuantGuard's own fusions of what its optimizer left apart in transformers: self-attention
   * ({@link AttentionFusion}) and the residual LayerNormalization ({@link SkipLayerNormFusion}).
   */
  enum Optimizer {
    ONNXRUNTIME,
    TRANSFORMER
  }

  private RuntimeFusion() {}

  /** The optimizer a resolved recipe names, or null when it names none. */
  static @Nullable Optimizer of(Recipe recipe) {
    String o = recipe.optimize();
    if (o == null || o.isBlank() || o.equalsIgnoreCase("none")) {
      return null;
    }
    return Spelling.find(Optimizer.class, o.trim().toLowerCase(Locale.ROOT))
        .orElseThrow(
            () ->
                InvalidInputException.forParameter(
                    "optimize",
                    o,
                    "is not a graph optimizer QuantGuard can run",
                    "use onnxruntime or transformer, or leave optimize out"));
  }

  /** What the note and the metadata say about a model fused by {@code optimizer}. */
  static String statement(Optimizer optimizer) {
    return switch (optimizer) {
      case ONNXRUNTIME ->
          "fused by ONNX Runtime's graph optimizer (extended level) before quantization: a standard"
              + " ONNX file with com.microsoft operators that only ONNX Runtime runs";
      case TRANSFORMER ->
          "fused by ONNX Runtime's graph optimizer (extended level) and QuantGuard's attention"
              + " fusions (com.microsoft.Attention, SkipLayerNormalization) before quantization: a standard ONNX file with"
              + " com.microsoft operators that only ONNX Runtime runs";
    };
  }

  /**
   * {@code model} fused as the recipe says, with the statement in its metadata; {@code model}
   * itself when the recipe names no optimizer.
   */
  static OnnxModel apply(OnnxModel model, Recipe recipe, SessionConfig session) {
    Optimizer o = of(recipe);
    if (o == null) {
      return model;
    }
    OnnxModel fused =
        InferenceSession.optimized(model, session, SessionConfig.Optimization.EXTENDED);
    if (o == Optimizer.TRANSFORMER) {
      AttentionFusion.apply(fused);
      SkipLayerNormFusion.apply(fused);
    }
    fused.putMetadata(METADATA_KEY, statement(o));
    return fused;
  }
}

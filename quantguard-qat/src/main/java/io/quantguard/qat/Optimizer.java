package io.quantguard.qat;

import io.quantguard.onnx.InvalidInputException;
import java.util.Locale;

/**
 * The update rule of a fine-tune: Adam (β 0.9 / 0.999, ε 1e-8), or SGD with momentum 0.9. The
 * moments are QuantGuard's own arrays ({@link OptimizerState}), not DJL's optimizers', whose
 * moments are private, so that a checkpoint carries them and a resumed run continues exactly.
 */
public enum Optimizer {
  ADAM,
  SGD;

  /** Parses {@code adam} or {@code sgd}. */
  public static Optimizer parse(String s) {
    try {
      return valueOf(s.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw InvalidInputException.forParameter(
          "qat.optimizer", s, "is not known", "use adam or sgd");
    }
  }
}

package io.quantguard.qat;

import io.quantguard.onnx.InvalidInputException;
import java.util.Locale;

/**
 * How the learning rate moves over a run, after a linear warm-up: constant, or cosine decay to zero
 * at the last planned step (which then has to be known).
 */
public enum LearningRateSchedule {
  CONSTANT,
  COSINE;

  /** Parses {@code constant} or {@code cosine}. */
  public static LearningRateSchedule parse(String s) {
    try {
      return valueOf(s.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw InvalidInputException.forParameter(
          "qat.schedule", s, "is not known", "use constant or cosine");
    }
  }

  /**
   * The rate at 1-based {@code step} of {@code total} (or -1 when unknown), {@code warmup} steps
   * rising linearly from {@code peak / warmup} to {@code peak}.
   */
  float rate(float peak, long step, long warmup, long total) {
    if (step <= warmup) {
      return peak * step / warmup;
    }
    if (this == CONSTANT || total <= warmup) {
      return peak;
    }
    double progress = Math.min(1.0, (double) (step - warmup) / (total - warmup));
    return (float) (peak * 0.5 * (1 + Math.cos(Math.PI * progress)));
  }
}

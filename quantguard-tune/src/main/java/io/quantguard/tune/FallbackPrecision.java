package io.quantguard.tune;

import io.quantguard.onnx.InvalidInputException;
import java.util.Arrays;
import java.util.Locale;

/**
 * The last rung of the tuner's precision ladder: the precision a group that no repair saves ends
 * in. float16 halves the size of what falls back, at the risk of float16's range; float32 is the
 * FP32 model's own precision, so every group in it always meets the quality rules.
 */
public enum FallbackPrecision {
  FP32,
  FP16;

  /** As written in recipes, project files and tuning state: {@code fp32}, {@code fp16}. */
  public String spelling() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The spelling, so that keys and state written from it stay as they were. */
  @Override
  public String toString() {
    return spelling();
  }

  /**
   * The precision spelt {@code value}.
   *
   * @param key the setting it was read from, named in the error
   * @throws InvalidInputException when it is neither {@code fp32} nor {@code fp16}
   */
  public static FallbackPrecision parse(String key, String value) {
    return Arrays.stream(values())
        .filter(p -> p.spelling().equals(value))
        .findFirst()
        .orElseThrow(
            () ->
                InvalidInputException.forParameter(
                    key, value, "is not a fallback precision", "use fp32 or fp16"));
  }
}

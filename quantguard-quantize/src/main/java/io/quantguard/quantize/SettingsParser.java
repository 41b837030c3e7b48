package io.quantguard.quantize;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.InvalidInputException;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Parses a recipe's setting strings into typed settings, laying the keys a recipe sets over
 * settings already parsed (the defaults, or the global settings under an override). Every error
 * names the key it comes from, as the recipe spells it.
 */
final class SettingsParser {
  private final String source;

  SettingsParser(String source) {
    this.source = source;
  }

  /** Activations when a recipe says nothing: uint8 affine, min/max (as {@link Recipe#defaults}). */
  static ActivationSettings defaultActivations() {
    return new ActivationSettings(
        new Scheme(DataType.UINT8, false, false), new Calibrator.MinMax(false), 99.999);
  }

  /**
   * Weights when a recipe says nothing (as {@link Recipe#defaults(Recipe.Mode)}): int8 symmetric
   * per channel, or for weight-only mode affine uint4 blocks of 32.
   */
  static WeightSettings defaultWeights(Recipe.Mode mode) {
    boolean weightOnly = mode == Recipe.Mode.WEIGHT_ONLY;
    return new WeightSettings(
        new Scheme(weightOnly ? DataType.UINT4 : DataType.INT8, !weightOnly, false),
        true,
        Recipe.WeightMethod.MINMAX,
        99.99,
        32,
        WeightSettings.Algorithm.AUTO,
        WeightSettings.Format.NBITS,
        false);
  }

  /** The constant of {@code type} that {@code text} spells, else an error naming the key. */
  <E extends Enum<E>> E parse(Class<E> type, String text, String key) {
    try {
      return Spelling.parse(type, text);
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(source, key + " " + e.getMessage(), "write one of them", e);
    }
  }

  /** The keys {@code given} sets, over {@code base}; {@code where} is the keys' place. */
  ActivationSettings activations(
      Recipe.@Nullable Activations given, ActivationSettings base, String where) {
    if (given == null) {
      return base;
    }
    Scheme scheme =
        scheme(
            given.type(),
            given.symmetric(),
            given.reduceRange(),
            given.bits(),
            base.scheme(),
            where);
    String method = given.method() != null ? given.method() : base.calibrator().method();
    double percentile = given.percentile() != null ? given.percentile() : base.percentile();
    Calibrator calibrator;
    try {
      calibrator = Calibrator.parse(method, percentile);
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(
          source, where + ": " + e.getMessage(), "pick one of the listed methods", e);
    }
    boolean perToken = given.perToken() != null ? given.perToken() : base.perToken();
    return new ActivationSettings(scheme, calibrator, percentile, perToken);
  }

  /** The keys {@code given} sets, over {@code base}; {@code where} is the keys' place. */
  WeightSettings weights(Recipe.@Nullable Weights given, WeightSettings base, String where) {
    if (given == null) {
      return base;
    }
    Scheme scheme =
        scheme(
            given.type(),
            given.symmetric(),
            given.reduceRange(),
            given.bits(),
            base.scheme(),
            where);
    Integer block = given.blockSize();
    int b = block != null ? block : base.blockSize();
    if (b < 16 || (b & (b - 1)) != 0) {
      throw new InvalidInputException(
          source, where + ".block_size is " + b, "use a power of two of at least 16 (32, 64, 128)");
    }
    String method = given.method();
    String algorithm = given.algorithm();
    String format = given.format();
    Boolean perChannel = given.perChannel();
    Double percentile = given.percentile();
    Boolean biasCorrection = given.biasCorrection();
    return new WeightSettings(
        scheme,
        perChannel != null ? perChannel : base.perChannel(),
        method != null
            ? parse(Recipe.WeightMethod.class, method, where + ".method")
            : base.method(),
        percentile != null ? percentile : base.percentile(),
        b,
        algorithm != null
            ? parse(WeightSettings.Algorithm.class, algorithm, where + ".algorithm")
            : base.algorithm(),
        format != null
            ? parse(WeightSettings.Format.class, format, where + ".format")
            : base.format(),
        biasCorrection != null ? biasCorrection : base.biasCorrection());
  }

  /** A SmoothQuant strength must lie in [0, 1]; null is none. */
  void checkSmooth(@Nullable Double alpha, String where) {
    if (alpha != null && !(alpha >= 0 && alpha <= 1)) {
      throw new InvalidInputException(
          source,
          where + " is " + alpha,
          "use a migration strength α in [0, 1] (0.5 is SmoothQuant's default), or leave it out");
    }
  }

  private Scheme scheme(
      @Nullable String type,
      @Nullable Boolean symmetric,
      @Nullable Boolean reduceRange,
      @Nullable Integer bits,
      Scheme base,
      String where) {
    Scheme typed;
    try {
      typed =
          new Scheme(
              type != null ? DataType.parse(type.toLowerCase(Locale.ROOT)) : base.type(),
              symmetric != null ? symmetric : base.symmetric(),
              reduceRange != null ? reduceRange : base.reduceRange());
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(
          source,
          where + ": " + e.getMessage(),
          "use int8, uint8, int16, uint16, int4 or uint4",
          e);
    }
    // a new type without bits takes its full width; bits without a type narrow the base's type
    int width = bits != null ? bits : type == null ? base.bits() : typed.type().bits();
    try {
      return new Scheme(typed.type(), typed.symmetric(), typed.reduceRange(), width);
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(
          source,
          where + ".bits: " + e.getMessage(),
          "use bits from 2 up to the width of " + where + ".type, or leave bits out",
          e);
    }
  }
}

package io.quantguard.onnx;

import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A user's input (a model file, a data file, a recipe, a setting) cannot be used. The message
 * always names the input, says what is wrong with it and what to do, so a front end can show it as
 * is and exit with its "bad input" code.
 *
 * <p>An error about a setting carries the setting's stable {@linkplain #parameter() parameter key}
 * (such as {@code evaluation.batchSize}) and the value given, and its message speaks the library's
 * language. A front end that spells the setting its own way (the command line as a flag, a server
 * as a JSON field) names it that way with {@link #messageNaming}; the key never changes, the words
 * may.
 */
public class InvalidInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String input;
  private final String problem;
  private final @Nullable String fix;
  private final @Nullable String parameter;
  private final @Nullable String value;

  public InvalidInputException(String input, String problem, @Nullable String fix) {
    this(input, problem, fix, null);
  }

  public InvalidInputException(
      String input, String problem, @Nullable String fix, @Nullable Throwable cause) {
    this(input, problem, fix, cause, null, null);
  }

  private InvalidInputException(
      String input,
      String problem,
      @Nullable String fix,
      @Nullable Throwable cause,
      @Nullable String parameter,
      @Nullable String value) {
    super(format(input, problem, fix), cause);
    this.input = input;
    this.problem = problem;
    this.fix = fix;
    this.parameter = parameter;
    this.value = value;
  }

  /**
   * The setting {@code key} cannot take {@code value}.
   *
   * @param key the stable parameter key, as the library spells the setting ({@code
   *     evaluation.batchSize}); the message names the input as the key and the value
   * @param value the value given, or null where the setting is missing
   */
  public static InvalidInputException forParameter(
      String key, @Nullable Object value, String problem, @Nullable String fix) {
    return forParameter(key, value, problem, fix, null);
  }

  /** As {@link #forParameter(String, Object, String, String)}, with the exception behind it. */
  public static InvalidInputException forParameter(
      String key,
      @Nullable Object value,
      String problem,
      @Nullable String fix,
      @Nullable Throwable cause) {
    String v = value == null ? null : value.toString();
    return new InvalidInputException(v == null ? key : key + " " + v, problem, fix, cause, key, v);
  }

  /** The file, setting or data source at fault, as the message names it. */
  public String input() {
    return input;
  }

  public String problem() {
    return problem;
  }

  public @Nullable String fix() {
    return fix;
  }

  /** The stable key of the setting at fault; empty when the input is not a setting. */
  public Optional<String> parameter() {
    return Optional.ofNullable(parameter);
  }

  /** The value the setting was given; empty when it was missing or the input is not a setting. */
  public Optional<String> value() {
    return Optional.ofNullable(value);
  }

  /**
   * This error with another fix: a front end's, where it can say more than the library (the command
   * that would register what is missing, say).
   */
  public InvalidInputException withFix(String fix) {
    return new InvalidInputException(input, problem, fix, this, parameter, value);
  }

  /**
   * The message with the setting named {@code name} (a flag, a JSON field) instead of by its key,
   * followed by the value given.
   */
  public String messageNaming(String name) {
    return format(value == null ? name : name + " " + value, problem, fix);
  }

  private static String format(String input, String problem, @Nullable String fix) {
    return input + ": " + problem + (fix == null || fix.isEmpty() ? "" : " (" + fix + ")");
  }
}

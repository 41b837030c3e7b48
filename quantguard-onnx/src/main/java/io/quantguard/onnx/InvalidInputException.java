package io.quantguard.onnx;

import org.jspecify.annotations.Nullable;

/**
 * A user's input (a model file, a data file, a recipe, a flag value) cannot be used. The message
 * always names the input, says what is wrong with it and what to do, so the command line can show
 * it as is and exit with the "bad input" code.
 */
public class InvalidInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String input;
  private final String problem;
  private final @Nullable String fix;

  public InvalidInputException(String input, String problem, @Nullable String fix) {
    this(input, problem, fix, null);
  }

  public InvalidInputException(
      String input, String problem, @Nullable String fix, @Nullable Throwable cause) {
    super(format(input, problem, fix), cause);
    this.input = input;
    this.problem = problem;
    this.fix = fix;
  }

  /** The file, flag or data source at fault. */
  public String input() {
    return input;
  }

  public String problem() {
    return problem;
  }

  public @Nullable String fix() {
    return fix;
  }

  private static String format(String input, String problem, @Nullable String fix) {
    return input + ": " + problem + (fix == null || fix.isEmpty() ? "" : " (" + fix + ")");
  }
}

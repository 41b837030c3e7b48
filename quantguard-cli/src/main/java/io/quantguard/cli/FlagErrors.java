package io.quantguard.cli;

import io.quantguard.onnx.InvalidInputException;

/**
 * Library errors name the library's inputs ({@code Audit.policy}, {@code calibration}); a command
 * says which of its flags that is, and how to fix it from the command line.
 */
public final class FlagErrors {
  private FlagErrors() {}

  /**
   * {@code e} with {@code flag} as its input when it names {@code libraryInput}, else {@code e}.
   *
   * @param fix the command-line fix, or null to keep the library's
   */
  public static InvalidInputException asFlag(
      InvalidInputException e, String libraryInput, String flag, String fix) {
    if (!e.input().equals(libraryInput)) {
      return e;
    }
    return new InvalidInputException(flag, e.problem(), fix != null ? fix : e.fix(), e);
  }
}

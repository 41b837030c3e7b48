package io.quantguard.cli;

/** The exit codes every quantguard command uses, so scripts and CI can tell failures apart. */
final class ExitCodes {
  static final int OK = 0;

  /** A policy or gate failed: the tool worked, the model did not pass. */
  static final int POLICY_FAILED = 1;

  static final int USAGE = 2;

  /** A model, data file, recipe or flag value cannot be used. */
  static final int BAD_INPUT = 3;

  static final int INTERNAL = 4;

  private ExitCodes() {}
}

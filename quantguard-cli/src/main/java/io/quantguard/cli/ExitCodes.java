package io.quantguard.cli;

/** The exit codes every quantguard command uses, so scripts and CI can tell failures apart. */
public final class ExitCodes {
  public static final int OK = 0;

  /** A policy or gate failed: the tool worked, the model did not pass. */
  public static final int POLICY_FAILED = 1;

  public static final int USAGE = 2;

  /** A model, data file, recipe or flag value cannot be used. */
  public static final int BAD_INPUT = 3;

  public static final int INTERNAL = 4;

  private ExitCodes() {}
}

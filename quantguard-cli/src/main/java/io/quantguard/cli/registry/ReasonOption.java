package io.quantguard.cli.registry;

import picocli.CommandLine.Option;

/** Why a change is made: required, and recorded in the change log with it. */
final class ReasonOption {
  @Option(names = "--reason", required = true, description = "why (recorded in the change log)")
  String reason;

  String get() {
    return reason;
  }
}

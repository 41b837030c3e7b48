package io.quantguard.cli.registry;

import io.quantguard.cli.ExitCodes;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/** {@code quantguard registry policy set|show|log}: the policies a model is audited against. */
@Command(
    name = "policy",
    mixinStandardHelpOptions = true,
    description = {
      "The policy a model is audited against: one for every stage, and optionally one per stage.",
      "Each change is recorded in the change log with its reason and the old and new SHA-256;"
          + " every text set stays readable by its hash."
    },
    subcommands = {PolicySetCommand.class, PolicyShowCommand.class, PolicyLogCommand.class})
final class PolicyCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCodes.USAGE;
  }
}

package io.quantguard.cli.registry;

import io.quantguard.cli.ExitCodes;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/**
 * {@code quantguard registry ...}: versioned models with lineage, stages, an audit trail, rollback
 * and byte-for-byte reproduction (library: {@code io.quantguard.registry}, reproduction in {@code
 * io.quantguard.release}). Each subcommand parses its flags, calls the library and renders.
 */
@Command(
    name = "registry",
    mixinStandardHelpOptions = true,
    description = {
      "Versioned models: register, promote, roll back, trace lineage and changes, reproduce;"
          + " the policy each model is audited against.",
      "The registry is a directory (SQLite; default $QUANTGUARD_REGISTRY or ~/.quantguard) or a"
          + " PostgreSQL URL (--registry jdbc:postgresql://HOST/DB?user=U)."
    },
    subcommands = {
      ListCommand.class,
      ShowCommand.class,
      RegisterCommand.class,
      PromoteCommand.class,
      RollbackCommand.class,
      LineageCommand.class,
      LogCommand.class,
      PolicyCommand.class,
      ReproduceCommand.class,
      ProfileCommand.class,
      ExportCommand.class
    })
public final class RegistryCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCodes.USAGE;
  }
}

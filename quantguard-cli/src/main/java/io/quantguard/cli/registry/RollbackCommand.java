package io.quantguard.cli.registry;

import io.quantguard.cli.ExitCodes;
import io.quantguard.cli.Output;
import io.quantguard.registry.ChangeLogEntry;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code quantguard registry rollback MODEL [--to VERSION] --reason WHY}. */
@Command(
    name = "rollback",
    mixinStandardHelpOptions = true,
    description = {
      "Put an earlier version back into production at once (default: the one before the"
          + " current), with the reason recorded.",
      "The version rolled back from is archived; run rollback again to undo."
    })
final class RollbackCommand implements Callable<Integer> {
  @Parameters(paramLabel = "MODEL")
  String model;

  @Option(names = "--to", paramLabel = "VERSION", description = "the version to put back")
  Integer to;

  @Mixin ReasonOption reason;

  @Mixin StoreOptions store;
  @Mixin ActorOption actor;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    ChangeLogEntry e = store.open().rollback(model, to, reason.get(), actor.get());
    PrintWriter out = spec.commandLine().getOut();
    if (store.json()) {
      Output.json(out, e);
      return ExitCodes.OK;
    }
    out.printf(
        "Rolled back %s: production %s@%d -> %s@%d (%s@%d archived)%n",
        e.model(),
        e.model(),
        e.previousVersion(),
        e.model(),
        e.version(),
        e.model(),
        e.previousVersion());
    out.println(ChangeLogText.recorded(e));
    out.printf(
        "Undo        quantguard registry rollback %s --reason \"...\" (back to @%d)%n",
        e.model(), e.previousVersion());
    return ExitCodes.OK;
  }
}

package io.quantguard.cli.registry;

import io.quantguard.cli.ExitCodes;
import io.quantguard.registry.Action;
import io.quantguard.registry.ChangeLogEntry;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code quantguard registry policy log MODEL}: the policy changes of one model. */
@Command(
    name = "log",
    mixinStandardHelpOptions = true,
    description = "MODEL's policy changes, oldest first: who, when, old and new SHA-256, why.")
final class PolicyLogCommand implements Callable<Integer> {
  @Parameters(paramLabel = "MODEL")
  String model;

  @Option(names = "--limit", defaultValue = "50", description = "the last N entries (50)")
  int limit;

  @Mixin StoreOptions store;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    List<ChangeLogEntry> entries = store.open().log(model, Action.POLICY, limit);
    PrintWriter out = spec.commandLine().getOut();
    if (entries.isEmpty() && !store.json()) {
      out.printf("No policy changes for %s%n", model);
    }
    LogCommand.print(store, entries, out);
    return ExitCodes.OK;
  }
}

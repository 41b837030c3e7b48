package io.quantguard.cli.registry;

import io.quantguard.cli.ExitCodes;
import io.quantguard.cli.Output;
import io.quantguard.registry.ChangeLogEntry;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code quantguard registry log [MODEL]}: the change log, one line per entry. */
@Command(
    name = "log",
    mixinStandardHelpOptions = true,
    description = "The change log (audit trail), oldest first: who, when, what, why.")
final class LogCommand implements Callable<Integer> {
  @Parameters(paramLabel = "MODEL", arity = "0..1", description = "one model (default: all)")
  String model;

  @Option(names = "--limit", defaultValue = "50", description = "the last N entries (50)")
  int limit;

  @Mixin StoreOptions store;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    print(store, store.open().log(model, limit), spec.commandLine().getOut());
    return ExitCodes.OK;
  }

  /** Entries as JSON ({@code {"entries": [...]}}) or one line each. */
  static void print(StoreOptions store, List<ChangeLogEntry> entries, PrintWriter out) {
    if (store.json()) {
      Output.json(out, Map.of("entries", entries));
    } else {
      entries.forEach(e -> out.println(ChangeLogText.line(e)));
    }
  }
}

package io.quantguard.cli.registry;

import io.quantguard.cli.ExitCodes;
import io.quantguard.cli.Output;
import io.quantguard.registry.ChangeLogEntry;
import io.quantguard.registry.Stage;
import java.io.PrintWriter;
import java.nio.file.Path;
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
      entries.forEach(e -> out.println(line(e)));
    }
  }

  /** One entry as a line: number, time, who, action, what, "why". */
  static String line(ChangeLogEntry e) {
    return String.format(
        "#%-4d %s  %-10s %-9s %s", e.seq(), e.at(), e.actor(), e.action().id(), what(e));
  }

  private static String what(ChangeLogEntry e) {
    String ref = e.model() + (e.version() != null ? "@" + e.version() : "");
    Map<String, Object> d = e.details();
    String s =
        switch (e.action()) {
          case REGISTER ->
              ref
                  + " sha256 "
                  + abbrev(d.get("sha256"))
                  + (d.containsKey("parent") ? " from " + d.get("parent") : "");
          case PROMOTE ->
              ref
                  + " -> "
                  + e.stage().id()
                  + (e.previousVersion() != null
                      ? " (" + e.model() + "@" + e.previousVersion() + " displaced)"
                      : "");
          case ROLLBACK -> "production " + e.model() + "@" + e.previousVersion() + " -> " + ref;
          case REPRODUCE ->
              ref
                  + (Boolean.TRUE.equals(d.get("identical"))
                      ? " byte for byte"
                      : " DIFFERS ("
                          + String.join(
                              ", ",
                              d.keySet().stream()
                                  .filter(
                                      k ->
                                          !k.equals("identical")
                                              && !k.equals("reproducedSha256")
                                              && !k.equals("calibration"))
                                  .toList())
                          + ")");
          case AUDIT -> {
            Object judged = d.get("policySha256");
            Object registered = d.get("registeredPolicySha256");
            yield ref
                + " ("
                + d.get("stage")
                + ") "
                + (Boolean.TRUE.equals(d.get("passed")) ? "passed " : "FAILED ")
                + d.get("policy")
                + (judged != null ? " sha256 " + abbrev(judged) : "")
                + (judged != null && registered != null && !registered.equals(judged)
                    ? ", not the registered " + abbrev(registered)
                    : "");
          }
          case POLICY -> {
            Object source = d.get("source");
            Object previous = d.get("previousSha256");
            yield e.model()
                + " ("
                + scope(e.stage())
                + ") "
                + (source != null ? Path.of(source.toString()).getFileName() + " " : "")
                + "sha256 "
                + abbrev(d.get("sha256"))
                + " (was "
                + (previous != null ? abbrev(previous) : "none")
                + ")";
          }
        };
    return s + (e.reason() != null ? "  \"" + e.reason() + "\"" : "");
  }

  private static String scope(Stage stage) {
    return stage == null ? "every stage" : stage.id();
  }

  /** The first 12 hex digits of a hash, as the log shows them. */
  private static String abbrev(Object sha) {
    String s = String.valueOf(sha);
    return s.substring(0, Math.min(12, s.length()));
  }
}

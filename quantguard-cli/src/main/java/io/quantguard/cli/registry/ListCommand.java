package io.quantguard.cli.registry;

import io.quantguard.cli.ExitCodes;
import io.quantguard.cli.Output;
import io.quantguard.registry.ModelOverview;
import io.quantguard.registry.Registry;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/** {@code quantguard registry list}: every model at a glance. */
@Command(name = "list", mixinStandardHelpOptions = true, description = "List the models.")
final class ListCommand implements Callable<Integer> {
  @Mixin StoreOptions store;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Registry r = store.open();
    List<ModelOverview> models = r.models();
    PrintWriter out = spec.commandLine().getOut();
    if (store.json()) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("registry", r.location());
      doc.put("models", models);
      Output.json(out, doc);
      return ExitCodes.OK;
    }
    if (models.isEmpty()) {
      out.printf("No models in %s (quantguard registry register FILE --name NAME)%n", r.location());
      return ExitCodes.OK;
    }
    Table t = new Table("MODEL", "VERSIONS", "LATEST", "PRODUCTION", "CANARY", "LAST CHANGE");
    for (ModelOverview m : models) {
      t.row(
          m.name(),
          "" + m.versions(),
          "" + m.latest(),
          m.production() != null ? "@" + m.production() : "-",
          m.canary() != null ? "@" + m.canary() : "-",
          m.lastChange() != null ? m.lastChange().toString() : "-");
    }
    t.print(out);
    return ExitCodes.OK;
  }
}

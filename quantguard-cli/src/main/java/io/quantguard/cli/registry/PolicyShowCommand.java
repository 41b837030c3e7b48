package io.quantguard.cli.registry;

import io.quantguard.cli.ExitCodes;
import io.quantguard.cli.Output;
import io.quantguard.registry.ModelPolicy;
import io.quantguard.registry.Registry;
import io.quantguard.registry.Stage;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code quantguard registry policy show MODEL [--stage S | --sha256 HASH]}. */
@Command(
    name = "show",
    mixinStandardHelpOptions = true,
    description = {
      "Show MODEL's policies (text, SHA-256, who set them, when and why).",
      "--stage shows the one that applies to that stage; --sha256 any text ever set, by the"
          + " hash the change log records."
    })
final class PolicyShowCommand implements Callable<Integer> {
  @Parameters(paramLabel = "MODEL")
  String model;

  @Option(
      names = "--stage",
      description = "only the policy that applies to this stage (its own, else every stage's)")
  String stage;

  @Option(
      names = "--sha256",
      paramLabel = "HASH",
      description = "a policy text by its SHA-256 (or 8+ leading hex digits), current or past")
  String sha256;

  @Mixin StoreOptions store;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Registry r = store.open();
    PrintWriter out = spec.commandLine().getOut();
    List<ModelPolicy> all = r.policies(model); // refuses an unknown model
    if (sha256 != null) {
      Map.Entry<String, String> t = r.policyText(sha256);
      if (store.json()) {
        Output.json(out, Map.of("sha256", t.getKey(), "text", t.getValue()));
      } else {
        out.printf("SHA-256     %s%n", t.getKey());
        printText(out, t.getValue());
      }
      return ExitCodes.OK;
    }
    List<ModelPolicy> policies =
        stage == null ? all : r.policyFor(model, Stage.parse(stage, "--stage")).stream().toList();
    if (store.json()) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("model", model);
      doc.put("policies", policies);
      Output.json(out, doc);
      return ExitCodes.OK;
    }
    if (policies.isEmpty()) {
      out.printf(
          "No policy   %s has none%s (quantguard registry policy set %s --policy FILE"
              + " --reason \"...\")%n",
          model, stage != null ? " for " + stage : "", model);
      return ExitCodes.OK;
    }
    boolean first = true;
    for (ModelPolicy p : policies) {
      if (!first) {
        out.println();
      }
      first = false;
      int rules = p.ruleCount();
      out.printf(
          "Policy      %s (%s): %s, %d rule%s%n",
          p.model(), p.scope(), p.name(), rules, rules == 1 ? "" : "s");
      out.printf("SHA-256     %s%n", p.sha256());
      out.printf(
          "Set         change #%d at %s by %s%s: %s%n",
          p.changeSeq(),
          p.setAt(),
          p.setBy(),
          p.source() != null ? " from " + p.source() : "",
          p.reason());
      printText(out, p.text());
    }
    return ExitCodes.OK;
  }

  private static void printText(PrintWriter out, String text) {
    out.println("Text");
    text.lines().forEach(l -> out.println("    " + l));
  }
}

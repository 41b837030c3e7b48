package io.quantguard.cli.registry;

import io.quantguard.cli.ExitCodes;
import io.quantguard.cli.Output;
import io.quantguard.registry.ChangeLogEntry;
import io.quantguard.registry.ModelPolicy;
import io.quantguard.registry.PolicyChange;
import io.quantguard.registry.Stage;
import io.quantguard.report.Policy;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code quantguard registry policy set MODEL --policy FILE --reason WHY [--stage S]}. */
@Command(
    name = "set",
    mixinStandardHelpOptions = true,
    description = {
      "Set MODEL's policy (validated first; a malformed one is refused and nothing is stored).",
      "Without --stage it applies to every stage that has none of its own. Setting the text"
          + " already in force changes nothing and records nothing."
    })
final class PolicySetCommand implements Callable<Integer> {
  @Parameters(paramLabel = "MODEL")
  String model;

  @Option(names = "--policy", required = true, paramLabel = "FILE", description = "policy YAML")
  Path policy;

  @Mixin ReasonOption reason;

  @Option(
      names = "--stage",
      description =
          "the stage it is for: candidate, canary, production or archived (default: every stage"
              + " without its own)")
  String stage;

  @Mixin StoreOptions store;
  @Mixin ActorOption actor;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    String text = Policy.text(policy);
    Stage st = stage != null ? Stage.parse(stage, "--stage") : null;
    PolicyChange ch =
        store.open().setPolicy(model, st, text, policy.toString(), reason.get(), actor.get());
    ModelPolicy p = ch.policy();
    PrintWriter out = spec.commandLine().getOut();
    if (store.json()) {
      Output.json(out, ch);
      return ExitCodes.OK;
    }
    ChangeLogEntry e = ch.entry(); // null: the text was in force already
    if (e == null) {
      out.printf(
          "Unchanged   %s (%s) has this policy already: %s, sha256 %s, set by change #%d (%s);"
              + " nothing recorded%n",
          p.model(), p.scope(), p.name(), p.sha256(), p.changeSeq(), p.setBy());
      return ExitCodes.OK;
    }
    int rules = p.ruleCount();
    out.printf(
        "Policy      %s (%s): %s, %d rule%s, sha256 %s%n",
        p.model(), p.scope(), p.name(), rules, rules == 1 ? "" : "s", p.sha256());
    out.printf(
        "Replaces    %s%n",
        ch.previousSha256() != null
            ? "sha256 " + ch.previousSha256()
            : "none (the first policy for " + p.scope() + ")");
    out.println(ChangeLogText.recorded(e));
    return ExitCodes.OK;
  }
}

package io.quantguard.cli;

import io.quantguard.cli.registry.ActorOption;
import io.quantguard.cli.registry.ChangeLogText;
import io.quantguard.cli.registry.StoreOptions;
import io.quantguard.evaluate.Bootstrap;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.ModelPolicy;
import io.quantguard.release.Audit;
import io.quantguard.release.AuditResult;
import io.quantguard.release.PolicyChoice;
import io.quantguard.report.PolicyReport;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.SessionConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code quantguard audit MODEL --data SPEC [--policy P]}: re-evaluates the production version of a
 * registered model against its FP32 parent on current data, judges the policy (the file given, else
 * the model's registered one), records the outcome with the policy's SHA-256 in the registry's
 * change log and exits 1 when a rule fails (for cron or CI). The work is {@link Audit}'s; this
 * command parses flags and renders.
 */
@Command(
    name = "audit",
    mixinStandardHelpOptions = true,
    description = {
      "Re-evaluate a registered model's production version (against its FP32 parent) on current"
          + " data, judge a policy (--policy, else the model's registered one), and record the"
          + " outcome with the policy's SHA-256 in the registry's change log.",
      "Exits 0 when every rule holds, 1 when one fails (drift beyond the policy)."
    })
final class AuditCommand implements Callable<Integer> {
  @Parameters(
      paramLabel = "MODEL[@VERSION]",
      description = "the model (its production version) or one version")
  String model;

  @Option(
      names = "--data",
      required = true,
      paramLabel = "[NAME=]SPEC",
      description = "current data (repeatable), as for evaluate")
  List<String> data = new ArrayList<>();

  @Option(
      names = "--policy",
      paramLabel = "FILE",
      description =
          "policy YAML (default: the model's registered policy for the version's stage, else for"
              + " every stage; see registry policy set)")
  @Nullable Path policy;

  @Option(
      names = "--task",
      description = "task spec (default: the task of the report registered with the version)")
  @Nullable String task;

  @Option(
      names = "--baseline",
      paramLabel = "MODEL@VERSION",
      description = "what to compare with (default: the version's registered parent)")
  @Nullable String baseline;

  @Option(
      names = "--slice-by",
      description =
          "slices, as for evaluate (repeatable; default: the slices of the report registered"
              + " with the version, so per_slice rules are judged as the gate judged them)")
  List<String> sliceBy = new ArrayList<>();

  @Option(
      names = "--bootstrap",
      defaultValue = "1000",
      description = "bootstrap resamples (default: ${DEFAULT-VALUE})")
  int resamples;

  @Option(
      names = "--threads",
      defaultValue = "0",
      description = "intra-op threads per session; 0 = every core")
  int threads;

  @Option(names = "--report", paramLabel = "DIR", description = "also write the reports here")
  @Nullable Path report;

  @Option(
      names = "--reason",
      defaultValue = "scheduled audit",
      description = "why the audit runs (default: ${DEFAULT-VALUE})")
  String reason;

  @Mixin StoreOptions store;
  @Mixin ActorOption actor;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Progress progress = TerminalProgress.forTerminal(spec.commandLine().getErr(), store.json());
    Audit.Builder b =
        Audit.of(store.open())
            .version(ArtifactRef.parse(model))
            .policy(policy)
            .task(task)
            .baseline(baseline != null ? ArtifactRef.parse(baseline) : null)
            .bootstrap(new Bootstrap(resamples, 0.95, 42))
            .session(SessionConfig.defaults().withThreads(threads))
            .progress(progress)
            .report(report)
            .reason(reason)
            .actor(actor.get());
    data.forEach(b::data);
    sliceBy.forEach(b::sliceBy);
    Audit audit;
    try {
      audit = b.build();
    } catch (InvalidInputException e) {
      String name = ArtifactRef.parse(model).model();
      throw switch (e.parameter().orElse("")) {
        case "audit.policy" ->
            e.withFix(
                "pass --policy FILE, or register one: quantguard registry policy set "
                    + name
                    + " --policy FILE --reason \"...\"");
        case "audit.task" -> e.withFix("give the task, e.g. --task classification");
        default -> e;
      };
    }
    PolicyChoice choice = audit.policy();
    ModelPolicy registered = choice.registered(); // null only for a given policy
    List<String> warnings = new ArrayList<>();
    if (choice.overridesRegistered() && registered != null) {
      warnings.add(
          String.format(
              "--policy %s (sha256 %s) is not %s's registered policy for %s (%s, sha256 %s, set by"
                  + " change #%d); the audit judges the file and records both hashes",
              choice.source(),
              choice.sha256().substring(0, 12),
              audit.version().model(),
              registered.scope(),
              registered.name(),
              registered.sha256().substring(0, 12),
              registered.changeSeq()));
    }
    PrintWriter err = spec.commandLine().getErr();
    warnings.forEach(w -> err.println("warning: " + w));
    err.flush();
    AuditResult r = audit.run();
    if (progress instanceof TerminalProgress bar) {
      bar.finish();
    }
    PrintWriter out = spec.commandLine().getOut();
    if (store.json()) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("version", r.version().ref().toString());
      doc.put("baseline", r.baseline().ref().toString());
      doc.put("sliceBy", r.sliceBy());
      doc.put("passed", r.passed());
      doc.put("policySha256", choice.sha256());
      doc.put("policyFrom", choice.given() ? "file" : "registry");
      doc.put("policyWhy", choice.why());
      doc.put("warnings", warnings);
      doc.put("changeLogSeq", r.entry().seq());
      doc.put("policy", PolicyReport.jsonTree(r.judgement()));
      Output.json(out, doc);
    } else {
      out.printf(
          "Audit       %s (%s) against %s on %s%s%n",
          r.version().ref(),
          r.version().stage().id(),
          r.baseline().ref(),
          String.join(", ", r.data()),
          r.sliceBy().isEmpty() ? "" : ", slices by " + String.join(", ", r.sliceBy()));
      out.printf(
          "Judged by   %s, sha256 %s%s%n",
          choice.given() || registered == null
              ? choice.source()
              : r.version().model() + "'s registered policy for " + registered.scope(),
          choice.sha256(),
          choice.given() || registered == null
              ? ""
              : " (set by change #" + registered.changeSeq() + ")");
      out.print(PolicyReport.text(r.judgement()));
      r.written().forEach(f -> out.println("Report      " + f));
      out.println(ChangeLogText.recorded(r.entry()));
    }
    out.flush();
    return r.passed() ? ExitCodes.OK : ExitCodes.POLICY_FAILED;
  }
}

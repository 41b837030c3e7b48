package io.quantguard.cli;

import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.Evaluation;
import io.quantguard.evaluate.Slicer;
import io.quantguard.evaluate.Tasks;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.ArtifactVersion;
import io.quantguard.registry.ChangeLogEntry;
import io.quantguard.registry.ModelPolicy;
import io.quantguard.registry.Registry;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.Judgement;
import io.quantguard.report.Policy;
import io.quantguard.report.PolicyReport;
import io.quantguard.report.ReportReader;
import io.quantguard.report.RuleVerdict;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.DataSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code quantguard audit MODEL --data SPEC [--policy P]}: re-evaluates the production version of a
 * registered model against its FP32 parent on current data, judges the policy (the file given, else
 * the model's registered one), records the outcome with the policy's SHA-256 in the registry's
 * change log and exits 1 when a rule fails (for cron or CI).
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
  Path policy;

  @Option(
      names = "--task",
      description = "task spec (default: the task of the report registered with the version)")
  String task;

  @Option(
      names = "--baseline",
      paramLabel = "MODEL@VERSION",
      description = "what to compare with (default: the version's registered parent)")
  String baseline;

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
  Path report;

  @Option(
      names = "--reason",
      defaultValue = "scheduled audit",
      description = "why the audit runs (default: ${DEFAULT-VALUE})")
  String reason;

  @Mixin RegistryCommand.Store store;
  @Mixin RegistryCommand.Actor actor;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    // A bad policy file is refused before anything runs.
    String givenText = policy != null ? RegistryCommand.readPolicyText(policy) : null;
    Policy given = givenText != null ? Policy.parse(givenText, policy.toString()) : null;
    Registry registry = store.open();
    ArtifactRef ref = ArtifactRef.parse(model);
    ArtifactVersion v =
        registry.version(ref.pinned() ? ref : ArtifactRef.parse(ref.model() + "@production"));
    Optional<ModelPolicy> registered = registry.policyFor(v.model(), v.stage());
    Policy limits;
    String policySha;
    String policyLabel;
    List<String> warnings = new ArrayList<>();
    if (given != null) {
      limits = given;
      policySha = ModelPolicy.sha256(givenText);
      policyLabel = policy.getFileName().toString();
      if (registered.isPresent() && !registered.get().sha256().equals(policySha)) {
        ModelPolicy p = registered.get();
        warnings.add(
            String.format(
                "--policy %s (sha256 %s) is not %s's registered policy for %s (%s, sha256 %s,"
                    + " set by change #%d); the audit judges the file and records both hashes",
                policy,
                RegistryCommand.abbrev(policySha),
                v.model(),
                p.scope(),
                p.name(),
                RegistryCommand.abbrev(p.sha256()),
                p.changeSeq()));
      }
    } else {
      ModelPolicy p =
          registered.orElseThrow(
              () ->
                  new InvalidInputException(
                      "--policy",
                      "is required: "
                          + v.model()
                          + " has no registered policy for "
                          + v.stage().id()
                          + " or for every stage",
                      "pass --policy FILE, or register one: quantguard registry policy set "
                          + v.model()
                          + " --policy FILE --reason \"...\""));
      limits = p.policy();
      policySha = p.sha256();
      policyLabel = p.name() + " (registered)";
    }
    PrintWriter err = spec.commandLine().getErr();
    warnings.forEach(w -> err.println("warning: " + w));
    err.flush();
    ArtifactVersion base = registry.version(baselineRef(v));
    String taskSpec = task != null ? task : registeredTask(registry, v);
    List<String> slices = !sliceBy.isEmpty() ? sliceBy : registeredSlices(registry, v);
    Path dir = tempDir();
    try {
      Path baseFile = dir.resolve("baseline.onnx");
      Path candFile = dir.resolve("candidate.onnx");
      registry.export(base.ref(), baseFile);
      registry.export(v.ref(), candFile);
      Evaluation.Builder b =
          Evaluation.builder()
              .baseline(base.ref().toString(), baseFile)
              .candidate(v.ref().toString(), candFile)
              .task(Tasks.parse(taskSpec), taskSpec)
              .session(SessionConfig.defaults().withThreads(threads))
              .bootstrap(new Bootstrap(resamples, 0.95, 42))
              .toolVersion(ToolVersion.get());
      List<String> names = new ArrayList<>();
      for (String d : data) {
        String[] ns = EvaluateCommand.splitName(d);
        String name = ns[0] != null ? ns[0] : "data" + (names.isEmpty() ? "" : names.size() + 1);
        names.add(name);
        b.data(name, DataSpec.parse(ns[1]));
      }
      slices.forEach(s -> b.sliceBy(Slicer.parse(s)));
      Progress progress = TerminalProgress.forTerminal(spec.commandLine().getErr(), store.json);
      b.progress(progress);
      EvaluationReport r = b.build().run();
      if (progress instanceof TerminalProgress bar) {
        bar.finish();
      }
      Judgement j = limits.judge(r);
      if (report != null) {
        PolicyReport.write(r, j, report);
      }
      Map<String, Object> details = new LinkedHashMap<>();
      details.put("policy", policyLabel);
      details.put("policyFrom", given != null ? "file" : "registry");
      details.put("baseline", base.ref().toString());
      details.put("task", taskSpec);
      details.put("sliceBy", slices);
      details.put("data", data);
      details.put("failures", j.failures().stream().map(RuleVerdict::message).toList());
      ChangeLogEntry e =
          registry.recordAudit(v.ref(), j.passed(), policySha, reason, details, actor.get());
      PrintWriter out = spec.commandLine().getOut();
      if (store.json) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("version", v.ref().toString());
        doc.put("baseline", base.ref().toString());
        doc.put("sliceBy", slices);
        doc.put("passed", j.passed());
        doc.put("policySha256", policySha);
        doc.put("policyFrom", given != null ? "file" : "registry");
        doc.put("warnings", warnings);
        doc.put("changeLogSeq", e.seq());
        doc.put("policy", PolicyReport.jsonTree(j));
        Output.json(out, doc);
      } else {
        out.printf(
            "Audit       %s (%s) against %s on %s%s%n",
            v.ref(),
            v.stage().id(),
            base.ref(),
            String.join(", ", data),
            slices.isEmpty() ? "" : ", slices by " + String.join(", ", slices));
        out.printf(
            "Judged by   %s, sha256 %s%s%n",
            given != null
                ? policy.toString()
                : v.model() + "'s registered policy for " + registered.get().scope(),
            policySha,
            given != null ? "" : " (set by change #" + registered.get().changeSeq() + ")");
        out.print(PolicyReport.text(j));
        out.printf("Recorded    change #%d by %s: %s%n", e.seq(), e.actor(), e.reason());
      }
      out.flush();
      return j.passed() ? ExitCodes.OK : ExitCodes.POLICY_FAILED;
    } finally {
      deleteTree(dir);
    }
  }

  private ArtifactRef baselineRef(ArtifactVersion v) {
    if (baseline != null) {
      return ArtifactRef.parse(baseline);
    }
    if (v.parent() == null) {
      throw new InvalidInputException(
          v.ref().toString(),
          "has no registered parent to compare with",
          "name the baseline: --baseline MODEL@VERSION");
    }
    return v.parent();
  }

  private static String registeredTask(Registry registry, ArtifactVersion v) {
    return registry
        .report(v)
        .map(text -> ReportReader.parse(text, v.ref() + " report"))
        .filter(r -> r.task() != null && r.task().spec() != null)
        .map(r -> r.task().spec())
        .orElseThrow(
            () ->
                new InvalidInputException(
                    "--task",
                    "is required: " + v.ref() + " was registered without an evaluation report",
                    "give the task, e.g. --task classification"));
  }

  /**
   * The slices the version's registered report was evaluated with ({@code settings.sliceBy}); none
   * when it has no report. Without them a {@code per_slice} rule would be judged on all data only,
   * and a drift confined to one class or input length would pass the audit unseen.
   */
  private static List<String> registeredSlices(Registry registry, ArtifactVersion v) {
    return registry
        .report(v)
        .map(text -> ReportReader.parse(text, v.ref() + " report"))
        .filter(r -> r.settings() != null && r.settings().sliceBy() != null)
        .map(r -> r.settings().sliceBy())
        .orElse(List.of());
  }

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("quantguard-audit");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) {
        Files.deleteIfExists(p);
      }
      Files.deleteIfExists(dir);
    } catch (IOException ignored) {
      // a temporary directory left behind is harmless
    }
  }
}

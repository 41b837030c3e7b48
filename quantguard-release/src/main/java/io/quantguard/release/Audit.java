package io.quantguard.release;

import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.Evaluation;
import io.quantguard.evaluate.NamedData;
import io.quantguard.evaluate.Slicer;
import io.quantguard.evaluate.Tasks;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.ArtifactVersion;
import io.quantguard.registry.ChangeLogEntry;
import io.quantguard.registry.ModelPolicy;
import io.quantguard.registry.Registry;
import io.quantguard.registry.Stage;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.Judgement;
import io.quantguard.report.Policy;
import io.quantguard.report.PolicyReport;
import io.quantguard.report.ReportReader;
import io.quantguard.report.RuleVerdict;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.SessionConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Re-evaluates a registered version against its FP32 parent on current data, judges a policy and
 * records the outcome in the registry's change log: the check a cron job, a CI pipeline or a
 * serving process runs to see whether a model in production still holds its limits.
 *
 * <pre>{@code
 * AuditResult r = Audit.of(registry)
 *     .version(ArtifactRef.parse("fashion-cnn"))      // its production version
 *     .data("idx:/data/this-week.gz?input=image")
 *     .actor("cron")
 *     .run();
 * }</pre>
 *
 * <p>Without a policy the model's registered one for the version's stage (else for every stage)
 * judges; without a task or slices, those of the report registered with the version are used, so
 * {@code per_slice} rules are judged as the gate judged them. {@link Builder#build()} resolves all
 * of this (reading the registry, not the models) before anything is evaluated.
 */
public final class Audit {
  private final Registry registry;
  private final ArtifactVersion version;
  private final ArtifactVersion baseline;
  private final PolicyChoice policy;
  private final String task;
  private final List<String> sliceBy;
  private final List<String> data;
  private final Bootstrap bootstrap;
  private final SessionConfig session;
  private final Progress progress;
  private final @Nullable Path reportDir;
  private final String reason;
  private final String actor;

  private Audit(Builder b, ArtifactVersion version, ArtifactVersion baseline, PolicyChoice policy) {
    this.registry = b.registry;
    this.version = version;
    this.baseline = baseline;
    this.policy = policy;
    this.task = b.task != null ? b.task : registeredTask(registry, version);
    this.sliceBy =
        !b.sliceBy.isEmpty() ? List.copyOf(b.sliceBy) : registeredSlices(registry, version);
    this.data = List.copyOf(b.data);
    this.bootstrap = b.bootstrap;
    this.session = b.session;
    this.progress = b.progress;
    this.reportDir = b.reportDir;
    this.reason = b.reason;
    this.actor = Objects.requireNonNull(b.actor, "actor"); // build() checked it
  }

  /** Starts an audit of a version in {@code registry}. */
  public static Builder of(Registry registry) {
    return new Builder(Objects.requireNonNull(registry));
  }

  /** The version to audit. */
  public ArtifactVersion version() {
    return version;
  }

  /** What it is compared with. */
  public ArtifactVersion baseline() {
    return baseline;
  }

  /** Which policy judges, and why. */
  public PolicyChoice policy() {
    return policy;
  }

  /** The task spec evaluated. */
  public String task() {
    return task;
  }

  /** The slices evaluated. */
  public List<String> sliceBy() {
    return sliceBy;
  }

  /** Exports both models, evaluates them on the data, judges, writes reports, records. */
  public AuditResult run() {
    EvaluationReport report;
    try (ScratchDirectory dir = new ScratchDirectory("quantguard-audit")) {
      Path baseFile = dir.resolve("baseline.onnx");
      Path candFile = dir.resolve("candidate.onnx");
      registry.export(baseline.ref(), baseFile);
      registry.export(version.ref(), candFile);
      Evaluation.Builder b =
          Evaluation.builder()
              .baseline(baseline.ref().toString(), baseFile)
              .candidate(version.ref().toString(), candFile)
              .task(Tasks.parse(task), task)
              .session(session)
              .bootstrap(bootstrap)
              .progress(progress);
      for (NamedData d : NamedData.parseAll(data)) {
        Evaluation.Data set = d.data();
        b.data(set.name(), set.source());
      }
      sliceBy.forEach(s -> b.sliceBy(Slicer.parse(s)));
      report = b.build().run();
    }
    Judgement j = policy.policy().judge(report);
    List<Path> written = reportDir != null ? PolicyReport.write(report, j, reportDir) : List.of();
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("policy", policy.label());
    details.put("policyFrom", policy.given() ? "file" : "registry");
    details.put("baseline", baseline.ref().toString());
    details.put("task", task);
    details.put("sliceBy", sliceBy);
    details.put("data", data);
    details.put("failures", j.failures().stream().map(RuleVerdict::message).toList());
    ChangeLogEntry e =
        registry.recordAudit(version.ref(), j.passed(), policy.sha256(), reason, details, actor);
    return new AuditResult(version, baseline, policy, task, sliceBy, data, report, j, e, written);
  }

  private static String registeredTask(Registry registry, ArtifactVersion v) {
    return registeredReport(registry, v)
        .filter(r -> r.task() != null && r.task().spec() != null)
        .map(r -> r.task().spec())
        .orElseThrow(
            () ->
                InvalidInputException.forParameter(
                    "audit.task",
                    null,
                    "is required: " + v.ref() + " was registered without an evaluation report",
                    "give the task, e.g. classification"));
  }

  /**
   * The slices the version's registered report was evaluated with ({@code settings.sliceBy}); none
   * when it has no report. Without them a {@code per_slice} rule would be judged on all data only,
   * and a drift confined to one class or input length would pass the audit unseen.
   */
  private static List<String> registeredSlices(Registry registry, ArtifactVersion v) {
    return registeredReport(registry, v)
        .filter(r -> r.settings() != null && r.settings().sliceBy() != null)
        .map(r -> r.settings().sliceBy())
        .orElse(List.of());
  }

  private static Optional<EvaluationReport> registeredReport(Registry registry, ArtifactVersion v) {
    return registry.report(v).map(text -> ReportReader.parse(text, v.ref() + " report"));
  }

  /** Sets up an {@link Audit}; the version, the data and the actor are required. */
  public static final class Builder {
    private final Registry registry;
    private @Nullable ArtifactRef version;
    private @Nullable ArtifactRef baseline;
    private @Nullable Path policyFile;
    private @Nullable String task;
    private final List<String> sliceBy = new ArrayList<>();
    private final List<String> data = new ArrayList<>();
    private Bootstrap bootstrap = new Bootstrap(1000, 0.95, 42);
    private SessionConfig session = SessionConfig.defaults();
    private Progress progress = Progress.NONE;
    private @Nullable Path reportDir;
    private String reason = "scheduled audit";
    private @Nullable String actor;

    private Builder(Registry registry) {
      this.registry = registry;
    }

    /** A version ({@code MODEL@3}, {@code MODEL@canary}), or a model: its production version. */
    public Builder version(ArtifactRef ref) {
      this.version = ref;
      return this;
    }

    /** Current data, {@code [NAME=]SPEC} as an evaluation takes it (repeatable). */
    public Builder data(String nameAndSpec) {
      this.data.add(nameAndSpec);
      return this;
    }

    /** A policy file to judge by, instead of the model's registered policy. */
    public Builder policy(@Nullable Path file) {
      this.policyFile = file;
      return this;
    }

    /** The task spec; default: the task of the report registered with the version. */
    public Builder task(@Nullable String spec) {
      this.task = spec;
      return this;
    }

    /** What to compare with; default: the version's registered parent. */
    public Builder baseline(@Nullable ArtifactRef ref) {
      this.baseline = ref;
      return this;
    }

    /** A slicer spec (repeatable); default: the slices of the version's registered report. */
    public Builder sliceBy(String slicer) {
      this.sliceBy.add(slicer);
      return this;
    }

    /** Bootstrap resamples, confidence and seed; default 1,000 resamples, 95 %, seed 42. */
    public Builder bootstrap(Bootstrap b) {
      this.bootstrap = Objects.requireNonNull(b);
      return this;
    }

    public Builder session(SessionConfig config) {
      this.session = Objects.requireNonNull(config);
      return this;
    }

    public Builder progress(Progress p) {
      this.progress = Objects.requireNonNull(p);
      return this;
    }

    /** Also writes report.json, report.md and report.html (with the verdicts) here. */
    public Builder report(@Nullable Path dir) {
      this.reportDir = dir;
      return this;
    }

    /** Why the audit runs (a schedule, an alarm); default {@code scheduled audit}. */
    public Builder reason(String why) {
      this.reason = why;
      return this;
    }

    /** Who runs it, for the change log. */
    public Builder actor(String who) {
      this.actor = who;
      return this;
    }

    /**
     * Resolves the version, the policy (a given file is read and parsed first, so a bad one is
     * refused before anything else), the baseline, the task and the slices.
     *
     * @throws InvalidInputException naming the builder's input at fault ({@code Audit.policy},
     *     {@code Audit.task}, ...)
     */
    public Audit build() {
      Path file = policyFile;
      String givenText = file != null ? Policy.text(file) : null;
      Policy given =
          file != null && givenText != null ? Policy.parse(givenText, file.toString()) : null;
      if (version == null) {
        throw new InvalidInputException(
            "Audit.version", "is required", "name a version (MODEL@3) or a model");
      }
      if (data.isEmpty()) {
        throw new InvalidInputException(
            "Audit.data", "is required", "give the current data to evaluate on");
      }
      if (actor == null || actor.isBlank()) {
        throw new InvalidInputException(
            "Audit.actor", "is required", "say who runs the audit, for the change log");
      }
      ArtifactVersion v =
          registry.version(
              version.pinned()
                  ? version
                  : new ArtifactRef(version.model(), null, Stage.PRODUCTION));
      ModelPolicy registered = registry.policyFor(v.model(), v.stage()).orElse(null);
      PolicyChoice choice;
      if (file != null && given != null && givenText != null) {
        choice =
            new PolicyChoice(
                given,
                ModelPolicy.sha256(givenText),
                true,
                file.getFileName().toString(),
                file.toString(),
                registered);
      } else if (registered != null) {
        choice =
            new PolicyChoice(
                registered.policy(),
                registered.sha256(),
                false,
                registered.name() + " (registered)",
                null,
                registered);
      } else {
        throw InvalidInputException.forParameter(
            "audit.policy",
            null,
            "is required: "
                + v.model()
                + " has no registered policy for "
                + v.stage().id()
                + " or for every stage",
            "give a policy file, or register one for " + v.model() + " (Registry.setPolicy)");
      }
      ArtifactVersion base = registry.version(baselineOf(v));
      return new Audit(this, v, base, choice);
    }

    /** Builds and runs: {@code build().run()}. */
    public AuditResult run() {
      return build().run();
    }

    private ArtifactRef baselineOf(ArtifactVersion v) {
      if (baseline != null) {
        return baseline;
      }
      if (v.parent() == null) {
        throw new InvalidInputException(
            v.ref().toString(),
            "has no registered parent to compare with",
            "name the baseline (Audit.baseline)");
      }
      return v.parent();
    }
  }
}

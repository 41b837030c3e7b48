package io.quantguard.cli;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.quantize.Quantizer;
import io.quantguard.registry.Action;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.ArtifactVersion;
import io.quantguard.registry.ChangeLogEntry;
import io.quantguard.registry.FileBlobStore;
import io.quantguard.registry.Lineage;
import io.quantguard.registry.ModelOverview;
import io.quantguard.registry.ModelPolicy;
import io.quantguard.registry.PolicyChange;
import io.quantguard.registry.Registration;
import io.quantguard.registry.Registry;
import io.quantguard.registry.Reproduction;
import io.quantguard.registry.Stage;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.ReportReader;
import io.quantguard.runtime.ResourceLocator;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.DataSource;
import io.quantguard.runtime.data.DataSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code quantguard registry ...}: versioned models with lineage, stages, an audit trail, rollback
 * and byte-for-byte reproduction (library: {@code io.quantguard.registry}).
 */
@Command(
    name = "registry",
    mixinStandardHelpOptions = true,
    description = {
      "Versioned models: register, promote, roll back, trace lineage and changes, reproduce;"
          + " the policy each model is audited against.",
      "The registry is a directory (SQLite; default $QUANTGUARD_REGISTRY or ~/.quantguard) or a"
          + " PostgreSQL URL (--registry jdbc:postgresql://HOST/DB?user=U)."
    },
    subcommands = {
      RegistryCommand.ListModels.class,
      RegistryCommand.Show.class,
      RegistryCommand.Register.class,
      RegistryCommand.Promote.class,
      RegistryCommand.Rollback.class,
      RegistryCommand.LineageCmd.class,
      RegistryCommand.Log.class,
      RegistryCommand.PolicyCmd.class,
      RegistryCommand.Reproduce.class,
      RegistryCommand.Export.class
    })
final class RegistryCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCodes.USAGE;
  }

  /** Options every registry subcommand takes. */
  static final class Store {
    @Option(
        names = "--registry",
        paramLabel = "DIR|URL",
        description =
            "registry directory (SQLite) or jdbc:postgresql://... URL"
                + " (default: $QUANTGUARD_REGISTRY, else ~/.quantguard)")
    String registry;

    @Option(
        names = "--blobs",
        paramLabel = "DIR",
        description =
            "where model files are stored (default: DIR/blobs for a directory registry;"
                + " $QUANTGUARD_BLOBS or ~/.quantguard/blobs for PostgreSQL)")
    Path blobs;

    @Option(names = "--json", description = "print JSON")
    boolean json;

    Registry open() {
      String location = registry != null ? registry : Registry.defaultLocation();
      Path dir = blobs != null ? blobs : Registry.defaultBlobs(location);
      return Registry.open(location, new FileBlobStore(dir));
    }
  }

  /** Who makes a change: {@code --actor}, else {@code $USER}, else the JVM's user name. */
  static final class Actor {
    @Option(names = "--actor", description = "who makes the change (default: $USER)")
    String actor;

    String get() {
      if (actor != null && !actor.isBlank()) {
        return actor;
      }
      String user = System.getenv("USER");
      return user != null && !user.isBlank() ? user : System.getProperty("user.name", "unknown");
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List the models.")
  static final class ListModels implements Callable<Integer> {
    @Mixin Store store;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      Registry r = store.open();
      List<ModelOverview> models = r.models();
      PrintWriter out = spec.commandLine().getOut();
      if (store.json) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("registry", r.location());
        List<Map<String, Object>> list = new ArrayList<>();
        for (ModelOverview m : models) {
          Map<String, Object> e = new LinkedHashMap<>();
          e.put("name", m.name());
          e.put("versions", m.versions());
          e.put("latest", m.latest());
          e.put("production", m.production());
          e.put("canary", m.canary());
          e.put("createdAt", m.createdAt().toString());
          e.put("lastChange", m.lastChange() != null ? m.lastChange().toString() : null);
          list.add(e);
        }
        doc.put("models", list);
        Output.json(out, doc);
        return ExitCodes.OK;
      }
      if (models.isEmpty()) {
        out.printf(
            "No models in %s (quantguard registry register FILE --name NAME)%n", r.location());
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

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = "Show a model's versions, or one version in full.")
  static final class Show implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL[@VERSION]", description = "MODEL, MODEL@3 or MODEL@production")
    String ref;

    @Mixin Store store;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      Registry r = store.open();
      ArtifactRef a = ArtifactRef.parse(ref);
      PrintWriter out = spec.commandLine().getOut();
      if (!a.pinned()) {
        List<ArtifactVersion> versions = r.versions(a.model());
        if (store.json) {
          Map<String, Object> doc = new LinkedHashMap<>();
          doc.put("model", a.model());
          doc.put("versions", versions.stream().map(RegistryCommand::json).toList());
          Output.json(out, doc);
          return ExitCodes.OK;
        }
        out.printf("Model       %s (%s)%n", a.model(), r.location());
        Table t =
            new Table(
                "VERSION", "STAGE", "MODE", "SIZE", "SHA256", "PARENT", "REGISTERED", "BY", "NOTE");
        for (ArtifactVersion v : versions) {
          t.row(
              "" + v.version(),
              v.stage().id(),
              v.mode() != null ? v.mode() : "float",
              Output.bytes(v.sizeBytes()),
              v.sha256().substring(0, 12),
              v.parent() != null ? v.parent().toString() : "-",
              v.registeredAt().toString(),
              v.registeredBy(),
              v.note() != null ? v.note() : "");
        }
        t.print(out);
        return ExitCodes.OK;
      }
      ArtifactVersion v = r.version(a);
      Optional<String> report = r.report(v);
      if (store.json) {
        Map<String, Object> doc = json(v);
        report.ifPresent(text -> doc.put("report", readJson(text)));
        Output.json(out, doc);
        return ExitCodes.OK;
      }
      out.printf("Version     %s (%s)%n", v.ref(), v.stage().id());
      out.printf(
          "File        %s, %s, sha256 %s%n", v.fileName(), Output.bytes(v.sizeBytes()), v.sha256());
      out.printf("Parent      %s%n", v.parent() != null ? v.parent() : "none (a root model)");
      if (v.quantized()) {
        out.printf("Recipe      %s, sha256 %s%n", v.mode(), v.recipeSha256());
        out.printf(
            "Calibration %s%n",
            v.calibrationFingerprint() != null
                ? v.calibrationSamples() + " samples, fingerprint " + v.calibrationFingerprint()
                : "none");
        out.printf("Produced by quantguard %s%n", v.toolVersion() != null ? v.toolVersion() : "?");
      } else {
        out.printf("Recipe      none (not quantized by QuantGuard)%n");
      }
      out.printf(
          "Environment ONNX Runtime %s; Java %s; %s; %s%n",
          v.environment().onnxRuntime(),
          v.environment().java(),
          v.environment().os(),
          v.environment().cpu());
      if (report.isPresent()) {
        EvaluationReport rep = ReportReader.parse(report.get(), v.ref() + " report");
        out.printf(
            "Report      sha256 %s (task %s)%n",
            v.reportSha256().substring(0, 12), rep.task() != null ? rep.task().name() : "?");
        for (EvaluationReport.ModelReport m : rep.candidates()) {
          if (m.verdict() != null) {
            // the summary starts with the outcome in words ("no significant difference: ...")
            out.printf("            %s: %s%n", m.name(), m.verdict().summary());
          }
        }
      } else {
        out.printf("Report      none%n");
      }
      out.printf(
          "Registered  %s by %s%s%n",
          v.registeredAt(), v.registeredBy(), v.note() != null ? ": " + v.note() : "");
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "register",
      mixinStandardHelpOptions = true,
      description = {
        "Store a model file as the next version of MODEL (stage candidate).",
        "A quantized model's recipe, calibration fingerprint and tool version come from its"
            + " metadata; --parent names the FP32 model it came from (registered first)."
      })
  static final class Register implements Callable<Integer> {
    @Parameters(
        paramLabel = "MODEL",
        description = "the .onnx file (or a maven:... reference or known name, e.g. minilm)")
    String file;

    @Option(names = "--name", required = true, description = "model name")
    String name;

    @Option(
        names = "--parent",
        paramLabel = "MODEL@VERSION|FILE",
        description =
            "the registered model it was derived from: a version, or its file (or known name)")
    String parent;

    @Option(
        names = "--recipe",
        description = "recipe file, for a model whose metadata does not record its recipe")
    Path recipe;

    @Option(
        names = "--report",
        paramLabel = "DIR|FILE",
        description = "evaluation report (report.json or its directory) to keep with it")
    Path report;

    @Option(names = "--note", description = "why it is registered")
    String note;

    @Mixin Store store;
    @Mixin Actor actor;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      Path model = ResourceLocator.resolve(file);
      String from =
          parent == null || parent.contains("@")
              ? parent
              : ResourceLocator.resolve(parent).toString();
      Registry r = store.open();
      ArtifactVersion v =
          r.register(new Registration(model, name, from, recipe, report, note, actor.get()));
      PrintWriter out = spec.commandLine().getOut();
      if (store.json) {
        Output.json(out, json(v));
        return ExitCodes.OK;
      }
      out.printf(
          "Registered  %s (%s, %s, %s, sha256 %s)%n",
          v.ref(),
          v.stage().id(),
          v.mode() != null ? v.mode() : "float",
          Output.bytes(v.sizeBytes()),
          v.sha256().substring(0, 16));
      if (v.parent() != null) {
        out.printf("Parent      %s%n", v.parent());
      }
      if (v.quantized()) {
        out.printf("Recipe      sha256 %s%n", v.recipeSha256().substring(0, 16));
        if (v.calibrationFingerprint() != null) {
          out.printf(
              "Calibration %s samples, fingerprint %s%n",
              v.calibrationSamples(), v.calibrationFingerprint().substring(0, 16));
        }
        if (v.parent() == null) {
          out.printf(
              "Note        no --parent: reproduce needs the FP32 model it came from; register it"
                  + " and this file again with --parent MODEL@VERSION%n");
        }
      }
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "promote",
      mixinStandardHelpOptions = true,
      description = {
        "Move a version to a stage (default production), with the reason recorded.",
        "Production's previous holder is archived; canary's goes back to candidate."
      })
  static final class Promote implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL@VERSION")
    String ref;

    @Option(
        names = "--to",
        defaultValue = "production",
        description = "candidate, canary, production (default) or archived")
    String to;

    @Option(names = "--reason", required = true, description = "why (recorded in the change log)")
    String reason;

    @Mixin Store store;
    @Mixin Actor actor;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      ArtifactRef a = ArtifactRef.parse(ref);
      if (!a.pinned()) {
        throw new io.quantguard.onnx.InvalidInputException(
            ref, "names no version", "use MODEL@VERSION");
      }
      Stage stage = Stage.parse(to, "--to");
      Registry r = store.open();
      ChangeLogEntry e = r.promote(a, stage, reason, actor.get());
      PrintWriter out = spec.commandLine().getOut();
      if (store.json) {
        Output.json(out, json(e));
        return ExitCodes.OK;
      }
      out.printf(
          "Promoted    %s@%d to %s (was %s)%n",
          e.model(), e.version(), e.stage().id(), e.details().get("from"));
      if (e.previousVersion() != null) {
        out.printf(
            "Displaced   %s@%d -> %s%n",
            e.model(), e.previousVersion(), e.details().get("displacedTo"));
      }
      out.printf("Recorded    change #%d by %s: %s%n", e.seq(), e.actor(), e.reason());
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "rollback",
      mixinStandardHelpOptions = true,
      description = {
        "Put an earlier version back into production at once (default: the one before the"
            + " current), with the reason recorded.",
        "The version rolled back from is archived; run rollback again to undo."
      })
  static final class Rollback implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL")
    String model;

    @Option(names = "--to", paramLabel = "VERSION", description = "the version to put back")
    Integer to;

    @Option(names = "--reason", required = true, description = "why (recorded in the change log)")
    String reason;

    @Mixin Store store;
    @Mixin Actor actor;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      Registry r = store.open();
      ChangeLogEntry e = r.rollback(model, to, reason, actor.get());
      PrintWriter out = spec.commandLine().getOut();
      if (store.json) {
        Output.json(out, json(e));
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
      out.printf("Recorded    change #%d by %s: %s%n", e.seq(), e.actor(), e.reason());
      out.printf(
          "Undo        quantguard registry rollback %s --reason \"...\" (back to @%d)%n",
          e.model(), e.previousVersion());
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "lineage",
      mixinStandardHelpOptions = true,
      description = "Print where versions came from: parents (FP32) and what was derived.")
  static final class LineageCmd implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL[@VERSION]")
    String ref;

    @Mixin Store store;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      Registry r = store.open();
      Lineage l = r.lineage(ArtifactRef.parse(ref));
      PrintWriter out = spec.commandLine().getOut();
      if (store.json) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("focus", l.focus().toString());
        doc.put("versions", l.versions().stream().map(RegistryCommand::json).toList());
        doc.put(
            "edges",
            l.edges().stream()
                .map(e -> Map.of("parent", e.parent().toString(), "child", e.child().toString()))
                .toList());
        Output.json(out, doc);
        return ExitCodes.OK;
      }
      out.print(l.render());
      out.flush();
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "log",
      mixinStandardHelpOptions = true,
      description = "The change log (audit trail), oldest first: who, when, what, why.")
  static final class Log implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL", arity = "0..1", description = "one model (default: all)")
    String model;

    @Option(names = "--limit", defaultValue = "50", description = "the last N entries (50)")
    int limit;

    @Mixin Store store;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      Registry r = store.open();
      List<ChangeLogEntry> entries = r.log(model, limit);
      PrintWriter out = spec.commandLine().getOut();
      if (store.json) {
        Output.json(out, Map.of("entries", entries.stream().map(RegistryCommand::json).toList()));
        return ExitCodes.OK;
      }
      entries.forEach(e -> out.println(line(e)));
      return ExitCodes.OK;
    }

    /** One entry as a line: number, time, who, action, what, "why". */
    static String line(ChangeLogEntry e) {
      return String.format(
          "#%-4d %s  %-10s %-9s %s", e.seq(), e.at(), e.actor(), e.action().id(), what(e));
    }

    private static String what(ChangeLogEntry e) {
      String ref = e.model() + (e.version() != null ? "@" + e.version() : "");
      String s =
          switch (e.action()) {
            case REGISTER ->
                ref
                    + " sha256 "
                    + String.valueOf(e.details().get("sha256")).substring(0, 12)
                    + (e.details().containsKey("parent")
                        ? " from " + e.details().get("parent")
                        : "");
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
                    + (Boolean.TRUE.equals(e.details().get("identical"))
                        ? " byte for byte"
                        : " DIFFERS ("
                            + String.join(
                                ", ",
                                e.details().keySet().stream()
                                    .filter(
                                        k ->
                                            !k.equals("identical")
                                                && !k.equals("reproducedSha256")
                                                && !k.equals("calibration"))
                                    .toList())
                            + ")");
            case AUDIT -> {
              Object judged = e.details().get("policySha256");
              Object registered = e.details().get("registeredPolicySha256");
              yield ref
                  + " ("
                  + e.details().get("stage")
                  + ") "
                  + (Boolean.TRUE.equals(e.details().get("passed")) ? "passed " : "FAILED ")
                  + e.details().get("policy")
                  + (judged != null ? " sha256 " + abbrev(judged) : "")
                  + (judged != null && registered != null && !registered.equals(judged)
                      ? ", not the registered " + abbrev(registered)
                      : "");
            }
            case POLICY -> {
              Object source = e.details().get("source");
              Object previous = e.details().get("previousSha256");
              yield e.model()
                  + " ("
                  + scope(e.stage())
                  + ") "
                  + (source != null ? Path.of(source.toString()).getFileName() + " " : "")
                  + "sha256 "
                  + abbrev(e.details().get("sha256"))
                  + " (was "
                  + (previous != null ? abbrev(previous) : "none")
                  + ")";
            }
          };
      return s + (e.reason() != null ? "  \"" + e.reason() + "\"" : "");
    }
  }

  @Command(
      name = "policy",
      mixinStandardHelpOptions = true,
      description = {
        "The policy a model is audited against: one for every stage, and optionally one per stage.",
        "Each change is recorded in the change log with its reason and the old and new SHA-256;"
            + " every text set stays readable by its hash."
      },
      subcommands = {
        RegistryCommand.PolicySet.class,
        RegistryCommand.PolicyShow.class,
        RegistryCommand.PolicyLog.class
      })
  static final class PolicyCmd implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      spec.commandLine().usage(spec.commandLine().getErr());
      return ExitCodes.USAGE;
    }
  }

  @Command(
      name = "set",
      mixinStandardHelpOptions = true,
      description = {
        "Set MODEL's policy (validated first; a malformed one is refused and nothing is stored).",
        "Without --stage it applies to every stage that has none of its own. Setting the text"
            + " already in force changes nothing and records nothing."
      })
  static final class PolicySet implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL")
    String model;

    @Option(names = "--policy", required = true, paramLabel = "FILE", description = "policy YAML")
    Path policy;

    @Option(names = "--reason", required = true, description = "why (recorded in the change log)")
    String reason;

    @Option(
        names = "--stage",
        description =
            "the stage it is for: candidate, canary, production or archived (default: every stage"
                + " without its own)")
    String stage;

    @Mixin Store store;
    @Mixin Actor actor;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      String text = readPolicyText(policy);
      Stage st = stage != null ? Stage.parse(stage, "--stage") : null;
      Registry r = store.open();
      PolicyChange ch = r.setPolicy(model, st, text, policy.toString(), reason, actor.get());
      ModelPolicy p = ch.policy();
      PrintWriter out = spec.commandLine().getOut();
      if (store.json) {
        Map<String, Object> doc = json(p);
        doc.put("changed", ch.changed());
        doc.put("previousSha256", ch.previousSha256());
        doc.put("changeLogSeq", ch.changed() ? ch.entry().seq() : null);
        Output.json(out, doc);
        return ExitCodes.OK;
      }
      if (!ch.changed()) {
        out.printf(
            "Unchanged   %s (%s) has this policy already: %s, sha256 %s, set by change #%d (%s);"
                + " nothing recorded%n",
            p.model(), p.scope(), p.name(), p.sha256(), p.changeSeq(), p.setBy());
        return ExitCodes.OK;
      }
      int rules = p.policy().rules().size();
      out.printf(
          "Policy      %s (%s): %s, %d rule%s, sha256 %s%n",
          p.model(), p.scope(), p.name(), rules, rules == 1 ? "" : "s", p.sha256());
      out.printf(
          "Replaces    %s%n",
          ch.previousSha256() != null
              ? "sha256 " + ch.previousSha256()
              : "none (the first policy for " + p.scope() + ")");
      ChangeLogEntry e = ch.entry();
      out.printf("Recorded    change #%d by %s: %s%n", e.seq(), e.actor(), e.reason());
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = {
        "Show MODEL's policies (text, SHA-256, who set them, when and why).",
        "--stage shows the one that applies to that stage; --sha256 any text ever set, by the"
            + " hash the change log records."
      })
  static final class PolicyShow implements Callable<Integer> {
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

    @Mixin Store store;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      Registry r = store.open();
      PrintWriter out = spec.commandLine().getOut();
      List<ModelPolicy> all = r.policies(model); // refuses an unknown model
      if (sha256 != null) {
        Map.Entry<String, String> t = r.policyText(sha256);
        if (store.json) {
          Output.json(out, Map.of("sha256", t.getKey(), "text", t.getValue()));
        } else {
          out.printf("SHA-256     %s%n", t.getKey());
          printText(out, t.getValue());
        }
        return ExitCodes.OK;
      }
      List<ModelPolicy> policies =
          stage == null ? all : r.policyFor(model, Stage.parse(stage, "--stage")).stream().toList();
      if (store.json) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("model", model);
        doc.put("policies", policies.stream().map(RegistryCommand::json).toList());
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
        int rules = p.policy().rules().size();
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

  @Command(
      name = "log",
      mixinStandardHelpOptions = true,
      description = "MODEL's policy changes, oldest first: who, when, old and new SHA-256, why.")
  static final class PolicyLog implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL")
    String model;

    @Option(names = "--limit", defaultValue = "50", description = "the last N entries (50)")
    int limit;

    @Mixin Store store;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      Registry r = store.open();
      List<ChangeLogEntry> entries = r.log(model, Action.POLICY, limit);
      PrintWriter out = spec.commandLine().getOut();
      if (store.json) {
        Output.json(out, Map.of("entries", entries.stream().map(RegistryCommand::json).toList()));
        return ExitCodes.OK;
      }
      if (entries.isEmpty()) {
        out.printf("No policy changes for %s%n", model);
      }
      entries.forEach(e -> out.println(Log.line(e)));
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "reproduce",
      mixinStandardHelpOptions = true,
      description = {
        "Re-run a version's recorded recipe on its registered parent and check byte identity.",
        "Exits 0 when the bytes are identical, 1 with what differs (data fingerprint, tool"
            + " version, recipe hash, ONNX Runtime, bytes) otherwise."
      })
  static final class Reproduce implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL@VERSION")
    String ref;

    @Option(
        names = "--calibration",
        description = "the calibration data spec it was quantized with (if it was calibrated)")
    String calibration;

    @Option(
        names = "--threads",
        defaultValue = "0",
        description = "ONNX Runtime intra-op threads (0 = all cores)")
    int threads;

    @Mixin Store store;
    @Mixin Actor actor;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      Registry r = store.open();
      ArtifactRef a = ArtifactRef.parse(ref);
      DataSource data = calibration != null ? DataSpec.parse(calibration) : null;
      var progress = TerminalProgress.forTerminal(spec.commandLine().getErr(), store.json);
      Quantizer.Options options =
          new Quantizer.Options(
              SessionConfig.defaults().withThreads(threads), progress, ToolVersion.get());
      Reproduction rep = r.reproduce(a, data, options, actor.get());
      if (progress instanceof TerminalProgress tp) {
        tp.finish();
      }
      PrintWriter out = spec.commandLine().getOut();
      if (store.json) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("version", rep.version().toString());
        doc.put("identical", rep.identical());
        doc.put("registeredSha256", rep.registeredSha256());
        doc.put("reproducedSha256", rep.reproducedSha256());
        doc.put("registeredBytes", rep.registeredBytes());
        doc.put("reproducedBytes", rep.reproducedBytes());
        doc.put("differences", rep.differences());
        Output.json(out, doc);
      } else if (rep.identical()) {
        out.printf(
            "Reproduced  %s byte for byte (%s bytes, sha256 %s)%n",
            rep.version(), Output.count(rep.registeredBytes()), rep.registeredSha256());
        rep.differences()
            .forEach(
                d ->
                    out.printf(
                        "Note        %s: recorded %s, now %s%n", d.what(), d.recorded(), d.now()));
      } else {
        out.printf("NOT REPRODUCED %s%n", rep.version());
        for (Reproduction.Difference d : rep.differences()) {
          out.printf(
              "  %-20s recorded %s%n  %-20s now      %s%n", d.what(), d.recorded(), "", d.now());
        }
      }
      return rep.identical() ? ExitCodes.OK : ExitCodes.POLICY_FAILED;
    }
  }

  @Command(
      name = "export",
      mixinStandardHelpOptions = true,
      description = "Write a version's model file (verified against its SHA-256) to a path.")
  static final class Export implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL@VERSION", description = "MODEL@3, MODEL@production, ...")
    String ref;

    @Option(
        names = {"-o", "--output"},
        required = true,
        description = "where to write the .onnx file")
    Path output;

    @Mixin Store store;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      Registry r = store.open();
      ArtifactVersion v = r.export(ArtifactRef.parse(ref), output);
      PrintWriter out = spec.commandLine().getOut();
      if (store.json) {
        Map<String, Object> doc = json(v);
        doc.put("output", output.toString());
        Output.json(out, doc);
      } else {
        out.printf(
            "Exported    %s -> %s (%s, sha256 verified)%n",
            v.ref(), output, Output.bytes(v.sizeBytes()));
      }
      return ExitCodes.OK;
    }
  }

  // ---------------------------------------------------------------- JSON shapes

  static Map<String, Object> json(ArtifactVersion v) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("ref", v.ref().toString());
    m.put("model", v.model());
    m.put("version", v.version());
    m.put("stage", v.stage().id());
    m.put("sha256", v.sha256());
    m.put("sizeBytes", v.sizeBytes());
    m.put("fileName", v.fileName());
    m.put("parent", v.parent() != null ? v.parent().toString() : null);
    m.put("mode", v.mode());
    m.put("recipeSha256", v.recipeSha256());
    m.put("recipe", v.recipeJson() != null ? readJson(v.recipeJson()) : null);
    m.put("calibrationFingerprint", v.calibrationFingerprint());
    m.put("calibrationSamples", v.calibrationSamples());
    m.put("toolVersion", v.toolVersion());
    m.put("environment", v.environment());
    m.put("reportSha256", v.reportSha256());
    m.put("registeredAt", v.registeredAt().toString());
    m.put("registeredBy", v.registeredBy());
    m.put("note", v.note());
    return m;
  }

  static Map<String, Object> json(ChangeLogEntry e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("seq", e.seq());
    m.put("at", e.at().toString());
    m.put("actor", e.actor());
    m.put("action", e.action().id());
    m.put("model", e.model());
    m.put("version", e.version());
    m.put("stage", e.stage() != null ? e.stage().id() : null);
    m.put("previousVersion", e.previousVersion());
    m.put("reason", e.reason());
    m.put("details", e.details());
    return m;
  }

  static Map<String, Object> json(ModelPolicy p) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("model", p.model());
    m.put("stage", p.stage() != null ? p.stage().id() : null);
    m.put("scope", p.scope());
    m.put("name", p.name());
    m.put("sha256", p.sha256());
    m.put("rules", p.policy().rules().size());
    m.put("source", p.source());
    m.put("changeSeq", p.changeSeq());
    m.put("setAt", p.setAt().toString());
    m.put("setBy", p.setBy());
    m.put("reason", p.reason());
    m.put("text", p.text());
    return m;
  }

  /** A policy file's text, as the registry hashes and stores it. */
  static String readPolicyText(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new InvalidInputException(
          file.toString(), "cannot be read: " + e.getMessage(), "check the path", e);
    }
  }

  /** {@code every stage}, or the stage a policy is for. */
  static String scope(Stage stage) {
    return stage == null ? "every stage" : stage.id();
  }

  /** The first 12 hex digits of a hash, as the log shows them. */
  static String abbrev(Object sha) {
    String s = String.valueOf(sha);
    return s.substring(0, Math.min(12, s.length()));
  }

  private static Object readJson(String text) {
    try {
      return Output.JSON.readTree(text);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return text;
    }
  }

  /** A plain text table with columns padded to their widest cell. */
  private static final class Table {
    private final List<String[]> rows = new ArrayList<>();

    Table(String... header) {
      rows.add(header);
    }

    void row(String... cells) {
      rows.add(cells);
    }

    void print(PrintWriter out) {
      int n = rows.get(0).length;
      int[] w = new int[n];
      for (String[] r : rows) {
        for (int i = 0; i < n; i++) {
          w[i] = Math.max(w[i], r[i].length());
        }
      }
      for (String[] r : rows) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) {
          s.append(i == n - 1 ? r[i] : String.format("%-" + (w[i] + 2) + "s", r[i]));
        }
        out.println(s.toString().stripTrailing());
      }
    }
  }
}

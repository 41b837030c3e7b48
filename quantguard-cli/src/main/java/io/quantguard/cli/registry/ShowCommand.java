package io.quantguard.cli.registry;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantguard.cli.ExitCodes;
import io.quantguard.cli.Output;
import io.quantguard.onnx.RunEnvironment;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.ArtifactVersion;
import io.quantguard.registry.Registry;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.ReportReader;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code quantguard registry show MODEL[@VERSION]}: a model's versions, or one in full. */
@Command(
    name = "show",
    mixinStandardHelpOptions = true,
    description = "Show a model's versions, or one version in full.")
final class ShowCommand implements Callable<Integer> {
  @Parameters(paramLabel = "MODEL[@VERSION]", description = "MODEL, MODEL@3 or MODEL@production")
  String ref;

  @Mixin StoreOptions store;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Registry r = store.open();
    ArtifactRef a = ArtifactRef.parse(ref);
    PrintWriter out = spec.commandLine().getOut();
    if (!a.pinned()) {
      return versions(r, a.model(), out);
    }
    ArtifactVersion v = r.version(a);
    Optional<String> report = r.report(v);
    if (store.json()) {
      ObjectNode doc = Output.JSON.valueToTree(v);
      report.ifPresent(text -> doc.putPOJO("report", Output.tree(text)));
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
      if (v.training() != null) {
        out.printf("Training    quantization-aware: %s%n", v.training());
      }
      out.printf("Produced by quantguard %s%n", v.toolVersion() != null ? v.toolVersion() : "?");
      RunEnvironment e = v.environment();
      out.printf(
          "Quantized   %s%n",
          e == null
              ? "where: not recorded (quantized before QuantGuard recorded it)"
              : String.format(
                  "with ONNX Runtime %s; Java %s; %s; %d cores%s",
                  e.onnxRuntime(),
                  e.java(),
                  e.os(),
                  e.cpus(),
                  e.cpuModel() != null ? ", " + e.cpuModel() : ""));
    } else {
      out.printf("Recipe      none (not quantized by QuantGuard)%n");
    }
    String reportSha = v.reportSha256();
    if (report.isPresent() && reportSha != null) {
      EvaluationReport rep = ReportReader.parse(report.get(), v.ref() + " report");
      out.printf(
          "Report      sha256 %s (task %s)%n",
          reportSha.substring(0, 12), rep.task() != null ? rep.task().name() : "?");
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

  private int versions(Registry r, String model, PrintWriter out) {
    List<ArtifactVersion> versions = r.versions(model);
    if (store.json()) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("model", model);
      doc.put("versions", versions);
      Output.json(out, doc);
      return ExitCodes.OK;
    }
    out.printf("Model       %s (%s)%n", model, r.location());
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
}

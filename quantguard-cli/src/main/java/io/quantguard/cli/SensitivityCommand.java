package io.quantguard.cli;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.report.AtomicFile;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.ResourceLocator;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.DataSpec;
import io.quantguard.tune.SensitivityAnalysis;
import io.quantguard.tune.SensitivityHtml;
import io.quantguard.tune.SensitivityReport;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code quantguard sensitivity}: which nodes cost the most when quantized, ranked. */
@Command(
    name = "sensitivity",
    mixinStandardHelpOptions = true,
    description = "Rank a model's nodes by how much quantizing each alone changes its outputs.")
final class SensitivityCommand implements Callable<Integer> {
  @Parameters(
      paramLabel = "MODEL",
      description = "the FP32 model (file, maven:... reference or known name)")
  String model;

  @Option(names = "--calibration", required = true, description = "calibration data spec")
  String calibration;

  @Option(
      names = "--data",
      required = true,
      description = "validation data spec (a few hundred samples are enough)")
  String data;

  @Option(
      names = "--recipe",
      description = "the static recipe whose nodes to analyze (default: the built-in one)")
  @Nullable Path recipeFile;

  @Option(
      names = "--budget",
      defaultValue = "1000",
      description = "at most this many nodes quantized alone (default: ${DEFAULT-VALUE})")
  int budget;

  @Option(
      names = "--task",
      paramLabel = "TASK",
      description =
          "also measure the task metric (classification, embedding, ...) for the most sensitive"
              + " nodes: with only that node quantized and with only that node in float")
  @Nullable String task;

  @Option(
      names = "--task-nodes",
      defaultValue = "5",
      paramLabel = "N",
      description =
          "how many of the most sensitive nodes get the task metric (default: ${DEFAULT-VALUE})")
  int taskNodes;

  @Option(names = "--report", description = "write report.json and report.html here")
  @Nullable Path report;

  @Option(names = "--json", description = "print JSON")
  boolean json;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    if (taskNodes < 1) {
      throw new InvalidInputException(
          "--task-nodes " + taskNodes, "must be at least 1", "give how many nodes to evaluate");
    }
    if (budget < 1) {
      throw new InvalidInputException(
          "--budget " + budget, "must be at least 1", "give the number of nodes to analyze");
    }
    Recipe recipe = recipeFile != null ? RecipeIO.read(recipeFile) : Recipe.builder().build();
    Progress progress = TerminalProgress.forTerminal(spec.commandLine().getErr(), json);
    SensitivityReport r =
        SensitivityAnalysis.run(
            ModelIO.load(ResourceLocator.resolve(model)),
            recipe,
            DataSpec.parse(calibration),
            DataSpec.parse(data),
            new SensitivityAnalysis.Options(
                budget, task, taskNodes, SessionConfig.defaults(), progress));
    if (progress instanceof TerminalProgress t) {
      t.finish();
    }
    PrintWriter out = spec.commandLine().getOut();
    if (report != null) {
      Files.createDirectories(report);
      AtomicFile.write(report.resolve("report.json"), Output.JSON.writeValueAsString(r));
      AtomicFile.write(report.resolve("report.html"), SensitivityHtml.render(r));
    }
    if (json) {
      Output.json(out, r);
      return ExitCodes.OK;
    }
    out.printf(
        Locale.ROOT,
        "Model output SQNR with every node quantized: %.2f dB (%d validation samples)%n",
        r.fullOutputSqnrDb(),
        r.validationSamples());
    out.printf(
        "%-60s %-10s %14s %14s%n",
        "node (most sensitive first)", "op", "model out dB", "node out dB");
    for (SensitivityReport.NodeSensitivity n : r.nodes()) {
      out.printf(
          Locale.ROOT,
          "%-60s %-10s %14.2f %14.2f%n",
          n.node(),
          n.opType(),
          n.outputSqnrDb(),
          n.nodeOutputSqnrDb());
    }
    SensitivityReport.TaskImpact t = r.taskImpact();
    if (t != null) {
      out.printf(
          Locale.ROOT,
          "%n%s: FP32 %s, every node quantized %s%n%-60s %18s %18s%n",
          t.metric(),
          t.fp32() == null ? "-" : String.format(Locale.ROOT, "%.4f", t.fp32()),
          String.format(Locale.ROOT, "%.4f", t.allQuantized()),
          "node",
          "only it quantized",
          "only it in float");
      for (SensitivityReport.NodeTaskImpact n : t.nodes()) {
        out.printf(
            Locale.ROOT,
            "%-60s %18.4f %18.4f%n",
            n.node(),
            n.onlyThisQuantized(),
            n.onlyThisFloat());
      }
    }
    if (report != null) {
      out.println("Report      " + report.resolve("report.html"));
    }
    return ExitCodes.OK;
  }
}

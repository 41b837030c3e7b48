package io.quantguard.cli;

import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.Evaluation;
import io.quantguard.evaluate.NamedData;
import io.quantguard.evaluate.Slicer;
import io.quantguard.evaluate.Tasks;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.Judgement;
import io.quantguard.report.Policy;
import io.quantguard.report.PolicyReport;
import io.quantguard.report.ReportWriter;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.ResourceLocator;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.DataSpec;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code quantguard evaluate --baseline M --candidate M ... --task T --data [NAME=]SPEC ...}: every
 * candidate against the FP32 baseline on the same batches, with intervals, significance, slices,
 * cost and data hygiene, written as report.json, report.md and report.html. With {@code --policy}
 * the fresh report is also judged, as {@code quantguard gate} would judge it, and a failed rule
 * exits 1.
 */
@Command(
    name = "evaluate",
    mixinStandardHelpOptions = true,
    description = {
      "Evaluate candidates against the FP32 baseline on exactly the same data: the task's metrics"
          + " per model and as paired differences with bootstrap confidence intervals, prediction"
          + " flips, McNemar's test, per-slice results with the worst slice called out, latency,"
          + " throughput, memory, size and energy, and duplicate inputs.",
      "Tasks: classification, embedding, retrieval, qa, regression, raw (options as in"
          + " classification?k=5&classes=a,b). Reports: report.json, report.md, report.html.",
      "Exits 0 whatever the models do, unless --policy is given and one of its rules fails (1)."
    })
final class EvaluateCommand implements Callable<Integer> {
  @Option(
      names = "--baseline",
      required = true,
      paramLabel = "MODEL",
      description = "the reference (FP32) model: an .onnx file, a maven:...!/entry or a known name")
  String baseline;

  @Option(
      names = "--candidate",
      required = true,
      paramLabel = "MODEL",
      description = "a model to compare with the baseline (repeat for several)")
  List<String> candidates;

  @Option(
      names = "--task",
      required = true,
      paramLabel = "TASK",
      description =
          "what the models do: classification, embedding, retrieval, qa, regression or raw,"
              + " with options after '?' (e.g. classification?k=5)")
  String task;

  @Option(
      names = "--data",
      required = true,
      paramLabel = "[NAME=]SPEC",
      description =
          "evaluation data (repeat for several named data sets, each a slice; retrieval needs"
              + " queries=SPEC and corpus=SPEC)")
  List<String> data;

  @Option(
      names = "--slice-by",
      paramLabel = "SLICER",
      description =
          "also report every metric per slice: data, label, an attribute (tokens, truncated) or"
              + " ATTR=edge,edge (repeatable)")
  List<String> sliceBy = new ArrayList<>();

  @Option(
      names = "--calibration",
      paramLabel = "SPEC",
      description = "calibration data, to count test inputs that also occur in it")
  @Nullable String calibration;

  @Option(
      names = "--calibration-ranges",
      paramLabel = "MODEL",
      description =
          "a statically quantized (QDQ) model: report, per slice and per quantized tensor, the"
              + " share of the baseline's FP32 activations outside the ranges it calibrated, and"
              + " the samples that clip most")
  @Nullable String calibrationRanges;

  @Option(names = "--report", paramLabel = "DIR", description = "write report.{json,md,html} here")
  @Nullable Path report;

  @Option(names = "--json", description = "print report.json instead of the summary")
  boolean json;

  @Option(
      names = "--policy",
      paramLabel = "FILE",
      description =
          "judge the report against this policy (as quantguard gate does): print the verdicts,"
              + " add them to the reports, exit 1 when a rule fails")
  @Nullable Path policy;

  @Option(
      names = "--batch-size",
      defaultValue = "64",
      paramLabel = "N",
      description = "samples per batch (default: ${DEFAULT-VALUE})")
  int batchSize;

  @Option(
      names = "--bootstrap",
      defaultValue = "1000",
      paramLabel = "N",
      description = "bootstrap resamples for the intervals; 0 = none (default: ${DEFAULT-VALUE})")
  int resamples;

  @Option(
      names = "--seed",
      defaultValue = "42",
      paramLabel = "S",
      description = "seed of the bootstrap (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(
      names = "--threads",
      defaultValue = "0",
      paramLabel = "N",
      description = "intra-op threads per session; 0 = every core (default)")
  int threads;

  @Option(
      names = "--watts-per-core",
      defaultValue = "10",
      paramLabel = "W",
      description =
          "declared power of a busy core for the energy estimate where RAPL counters are not"
              + " readable (default: ${DEFAULT-VALUE})")
  double wattsPerCore;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (threads < 0 || resamples < 0) {
      throw new InvalidInputException(
          threads < 0 ? "--threads " + threads : "--bootstrap " + resamples,
          "must not be negative",
          "give 0 or more");
    }
    Policy limits = policy == null ? null : Policy.read(policy);
    String taskSpec = task;
    Evaluation.Builder b =
        Evaluation.builder()
            .baseline(displayName(baseline), ResourceLocator.resolve(baseline))
            .task(Tasks.parse(taskSpec), taskSpec)
            .batchSize(batchSize)
            .session(SessionConfig.defaults().withThreads(threads))
            .bootstrap(new Bootstrap(resamples, 0.95, seed))
            .wattsPerCore(wattsPerCore);
    for (String c : candidates) {
      b.candidate(displayName(c), ResourceLocator.resolve(c));
    }
    for (NamedData d : NamedData.parseAll(data)) {
      b.data(d.name(), DataSpec.parse(d.spec()));
    }
    sliceBy.forEach(s -> b.sliceBy(Slicer.parse(s)));
    if (calibration != null) {
      b.calibration(DataSpec.parse(calibration));
    }
    if (calibrationRanges != null) {
      b.calibrationRanges(ResourceLocator.resolve(calibrationRanges));
    }
    Progress progress = TerminalProgress.forTerminal(err, json);
    b.progress(progress);
    EvaluationReport r = b.build().run();
    if (progress instanceof TerminalProgress bar) {
      bar.finish();
    }
    Judgement verdicts = null;
    if (limits != null) {
      try {
        verdicts = limits.judge(r);
      } catch (InvalidInputException e) {
        if (report != null) {
          ReportWriter.write(r, report); // the evaluation is still worth keeping
        }
        throw e;
      }
    }
    List<Path> written =
        report == null
            ? List.of()
            : verdicts == null
                ? ReportWriter.write(r, report)
                : PolicyReport.write(r, verdicts, report);
    if (json) {
      out.println(verdicts == null ? ReportWriter.json(r) : PolicyReport.reportJson(r, verdicts));
    } else {
      out.print(ReportWriter.summary(r));
      if (verdicts != null) {
        out.println();
        out.print(PolicyReport.text(verdicts));
      }
      written.forEach(p -> out.println("Report      " + p));
    }
    out.flush();
    return verdicts == null || verdicts.passed() ? ExitCodes.OK : ExitCodes.POLICY_FAILED;
  }

  /** A model's name in reports: the known name or Maven entry as given, else the file name. */
  static String displayName(String model) {
    if (model.startsWith("maven:") || model.startsWith("classpath:") || !model.contains("/")) {
      int slash = model.lastIndexOf('/');
      return slash >= 0 ? model.substring(slash + 1) : model;
    }
    return Path.of(model).getFileName().toString();
  }
}

package io.quantguard.cli;

import io.quantguard.report.Gate;
import io.quantguard.report.PolicyReport;
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
 * {@code quantguard gate --policy P --report report.json}: the CI gate ({@link Gate}). Judges a
 * policy against the report {@code evaluate} wrote, from the file alone, and exits 1 when a rule
 * fails, so a pipeline stops a candidate that is too damaged, too slow or too big; JUnit XML shows
 * each rule as a test case and the Markdown summary goes into the pull request. It needs only
 * {@code quantguard-report}: no ONNX Runtime.
 */
@Command(
    name = "gate",
    mixinStandardHelpOptions = true,
    description = {
      "Judge a policy (limits on the metrics, latency and size an evaluation reports) against"
          + " report.json and exit 1 when any rule fails for any candidate.",
      "Exit codes: 0 every rule holds, 1 a rule failed, 2 usage, 3 unreadable or mismatched"
          + " policy or report (e.g. a rule on a metric the report does not carry)."
    })
final class GateCommand implements Callable<Integer> {
  @Option(
      names = "--policy",
      required = true,
      paramLabel = "FILE",
      // picocli formats descriptions with String.format: a lone % is a broken conversion.
      description = "the policy (YAML): rules: {accuracy: {max_drop: 0.5%%}, ...}")
  Path policy;

  @Option(
      names = "--report",
      required = true,
      paramLabel = "FILE",
      description = "report.json written by quantguard evaluate --report DIR (or DIR itself)")
  Path report;

  @Option(
      names = "--candidate",
      paramLabel = "NAME",
      description =
          "judge only this candidate, by its name in the report (repeatable; default all)")
  List<String> candidates = new ArrayList<>();

  @Option(
      names = "--junit",
      paramLabel = "FILE",
      description =
          "write JUnit XML: one test suite per candidate, one test case per rule and slice")
  @Nullable Path junit;

  @Option(
      names = "--markdown",
      paramLabel = "FILE",
      description = "write a Markdown summary for the pull request")
  @Nullable Path markdown;

  @Option(names = "--json", description = "print the verdicts as JSON instead of a table")
  boolean json;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    Gate.Builder b = Gate.builder().policy(policy).report(report).junit(junit).markdown(markdown);
    candidates.forEach(b::candidate);
    Gate.Result r = b.build().run();
    if (json) {
      out.println(PolicyReport.json(r.judgement()));
    } else {
      out.print(PolicyReport.text(r.judgement()));
      r.written().forEach(f -> out.println("Wrote       " + f));
    }
    out.flush();
    return r.passed() ? ExitCodes.OK : ExitCodes.POLICY_FAILED;
  }
}

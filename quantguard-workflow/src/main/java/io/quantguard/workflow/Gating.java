package io.quantguard.workflow;

import io.quantguard.report.Gate;
import io.quantguard.report.RuleVerdict;
import java.nio.file.Path;
import java.util.List;

/** The gate step: the policy judged on the final report, written as JUnit XML and Markdown. */
final class Gating {
  private Gating() {}

  static Workflow.Verdict gate(Path policyFile, Path report, Path dir) {
    Gate.Result g =
        Gate.builder()
            .policy(policyFile)
            .report(report)
            .junit(dir.resolve("junit.xml"))
            .markdown(dir.resolve("gate.md"))
            .build()
            .run();
    List<String> failures = g.judgement().failures().stream().map(Gating::describe).toList();
    return new Workflow.Verdict(
        g.passed(), g.judgement().policy(), failures, g.judgement().verdicts().size());
  }

  private static String describe(RuleVerdict v) {
    return v.rule().describe()
        + (v.slice() == null || v.slice().equals("all") ? "" : " [" + v.slice() + "]")
        + ": measured "
        + Workflow.fmt(v.measured());
  }
}

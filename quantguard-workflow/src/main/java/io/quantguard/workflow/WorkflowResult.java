package io.quantguard.workflow;

import java.nio.file.Path;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link Workflow} run found, step by step, and where it wrote the summary.
 *
 * @param steps every step in order, each run now or reused
 * @param rollout the rollout in the registry, when the project configures one
 * @param summary {@code summary.html}
 */
public record WorkflowResult(
    String project,
    String source,
    Path out,
    List<Workflow.Step> steps,
    Workflow.Baseline baseline,
    Recommendation approach,
    Workflow.Candidate candidate,
    Workflow.Final evaluation,
    Workflow.Verdict verdict,
    Workflow.Registered registered,
    Workflow.@Nullable Rollout rollout,
    Path summary) {
  public WorkflowResult {
    steps = List.copyOf(steps);
  }

  /** Whether the candidate meets the policy (the gate's verdict). */
  public boolean passed() {
    return verdict.passed();
  }

  /** How many steps were reused from an earlier run. */
  public long reusedSteps() {
    return steps.stream().filter(Workflow.Step::reused).count();
  }
}

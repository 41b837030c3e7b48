package io.quantguard.release;

import io.quantguard.registry.ArtifactVersion;
import io.quantguard.registry.ChangeLogEntry;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.Judgement;
import java.nio.file.Path;
import java.util.List;

/**
 * What an {@link Audit} found and recorded.
 *
 * @param version the version audited
 * @param baseline what it was compared with (its parent, unless another was named)
 * @param policy which policy judged it, and why
 * @param task the task spec evaluated
 * @param sliceBy the slices evaluated (those of the version's registered report unless given)
 * @param data the data sets as given ({@code [NAME=]SPEC})
 * @param report the fresh evaluation
 * @param judgement the policy's verdicts on it
 * @param entry the change-log entry that records the outcome
 * @param written the report files written, if a report directory was given
 */
public record AuditResult(
    ArtifactVersion version,
    ArtifactVersion baseline,
    PolicyChoice policy,
    String task,
    List<String> sliceBy,
    List<String> data,
    EvaluationReport report,
    Judgement judgement,
    ChangeLogEntry entry,
    List<Path> written) {

  public AuditResult {
    sliceBy = List.copyOf(sliceBy);
    data = List.copyOf(data);
    written = List.copyOf(written);
  }

  /** True when every rule held. */
  public boolean passed() {
    return judgement.passed();
  }
}

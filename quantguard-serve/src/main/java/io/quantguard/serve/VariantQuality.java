package io.quantguard.serve;

import io.quantguard.registry.Action;
import io.quantguard.registry.ArtifactVersion;
import io.quantguard.registry.ChangeLogEntry;
import io.quantguard.registry.ModelPolicy;
import io.quantguard.registry.Stage;
import io.quantguard.report.Judgement;
import io.quantguard.report.ReportReader;
import io.quantguard.report.RuleVerdict;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Whether the quality policy lets a variant answer production traffic: speed never buys back a
 * failed policy. A registered variant is refused when its latest audit failed, or when the model's
 * policy for production fails on the evaluation report registered with it. A variant without such a
 * record (a plain file, a version registered without a report) has nothing against it.
 */
final class VariantQuality {
  private static final int AUDITS = 1000;

  private VariantQuality() {}

  /** Why the policy refuses {@code source}, or empty when it may answer. */
  static Optional<String> refusal(ModelSource source) {
    if (!(source instanceof ModelSource.Registered r)) {
      return Optional.empty();
    }
    ArtifactVersion v = r.registry().version(r.ref());
    Optional<ChangeLogEntry> audit =
        r.registry().log(v.model(), Action.AUDIT, AUDITS).stream()
            .filter(e -> e.version() != null && e.version() == v.version())
            .max(Comparator.comparingLong(ChangeLogEntry::seq));
    if (audit.isPresent() && Boolean.FALSE.equals(audit.get().details().get("passed"))) {
      return Optional.of(v.ref() + " failed its latest audit (change #" + audit.get().seq() + ")");
    }
    Optional<ModelPolicy> policy = r.registry().policyFor(v.model(), Stage.PRODUCTION);
    Optional<String> report = r.registry().report(v);
    if (policy.isEmpty() || report.isEmpty()) {
      return Optional.empty();
    }
    Judgement j =
        policy.get().policy().judge(ReportReader.parse(report.get(), v.ref() + " report"));
    if (j.passed()) {
      return Optional.empty();
    }
    List<RuleVerdict> failed = j.failures();
    return Optional.of(
        v.ref()
            + " fails policy "
            + policy.get().name()
            + " on its registered report ("
            + failed.stream().map(RuleVerdict::message).collect(Collectors.joining("; "))
            + ")");
  }
}

package io.quantguard.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The one-line verdict per candidate at the top of every report: whether the primary metric moved
 * significantly (McNemar's mid-p for classification accuracy, else the bootstrap interval of the
 * difference), by how much, and what the candidate costs relative to the baseline. It judges
 * significance, not acceptability: limits belong to a policy.
 */
public final class Verdicts {
  private Verdicts() {}

  /**
   * The verdict on a candidate against {@code baseline} at significance level {@code alpha}, from
   * the candidate's results on all data, its cost and size: it goes into the candidate's report.
   */
  public static EvaluationReport.Verdict of(
      EvaluationReport.SliceResult all,
      EvaluationReport.Cost cost,
      long sizeBytes,
      EvaluationReport.ModelReport baseline,
      double alpha) {
    List<String> parts = new ArrayList<>();
    String outcome = "not_judged";
    MetricEstimate primary =
        all.metrics().stream().filter(m -> !m.vsBaseline()).findFirst().orElse(null);
    if (primary != null) {
      boolean significant;
      String test;
      ClassificationDetail c = all.classification();
      if (c != null && c.mcnemar() != null && primary.name().equals("accuracy")) {
        significant = c.mcnemar().pValue() < alpha;
        test = "McNemar mid-p " + Format.p(c.mcnemar().pValue());
      } else {
        significant = primary.deltaSignificant();
        test = "interval " + (significant ? "excludes" : "includes") + " 0";
      }
      double delta = primary.delta() == null ? 0 : primary.delta();
      boolean better = primary.higherIsBetter() ? delta > 0 : delta < 0;
      outcome =
          !significant || delta == 0
              ? "no_significant_difference"
              : better ? "significantly_better" : "significantly_worse";
      parts.add(
          String.format(
              Locale.ROOT,
              "%s %s → %s (Δ %s, %d %% CI %s … %s; %s)",
              primary.name(),
              Format.num(primary.baseline()),
              Format.num(primary.value()),
              Format.signed(primary.delta()),
              Math.round((1 - alpha) * 100),
              Format.signed(primary.deltaLow()),
              Format.signed(primary.deltaHigh()),
              test));
    }
    for (MetricEstimate m : all.metrics()) {
      if (m.vsBaseline()) {
        parts.add(m.name() + " " + Format.num(m.value()));
      }
    }
    EvaluationReport.Latency lat = cost.latency();
    EvaluationReport.Latency base = baseline.cost().latency();
    parts.add(
        String.format(
            Locale.ROOT,
            "p95 latency %.2f ms/batch (×%.2f)",
            lat.p95(),
            base.p95() == 0 ? Double.NaN : lat.p95() / base.p95()));
    if (baseline.sizeBytes() > 0) {
      parts.add(
          String.format(Locale.ROOT, "size ×%.2f", (double) sizeBytes / baseline.sizeBytes()));
    }
    String head = outcome.replace('_', ' ');
    return new EvaluationReport.Verdict(outcome, head + ": " + String.join("; ", parts));
  }
}

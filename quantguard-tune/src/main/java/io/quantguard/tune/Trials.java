package io.quantguard.tune;

import io.quantguard.report.EvaluationReport;
import io.quantguard.report.Judgement;
import io.quantguard.report.RuleVerdict;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/** Turns an evaluation and its verdicts into a trial's outcome, and a trial into a log line. */
final class Trials {
  private Trials() {}

  static TrialRunner.Outcome of(EvaluationReport report, Judgement judgement) {
    EvaluationReport.ModelReport base = report.baseline();
    EvaluationReport.ModelReport cand = report.candidates().get(0);
    List<Trial.Gap> gaps = new ArrayList<>();
    double shortfall = 0;
    boolean quality = true;
    Double qualityValue = null;
    for (RuleVerdict v : judgement.verdicts()) {
      boolean cost = v.rule().limitsCost();
      if (!cost && qualityValue == null && "all".equals(v.slice())) {
        qualityValue = v.value();
      }
      if (!v.failed()) {
        continue;
      }
      quality &= cost;
      gaps.add(
          new Trial.Gap(
              v.rule().describe(), v.slice(), v.measuredText(), v.limitText(), v.marginText()));
      shortfall += relativeShortfall(v);
    }
    return new TrialRunner.Outcome(
        quality,
        qualityValue,
        ratio(cand.cost().latency().p95(), base.cost().latency().p95()),
        ratio(cand.sizeBytes(), base.sizeBytes()),
        gaps,
        shortfall);
  }

  /** How far a failed check is from its limit, relative to the limit (1 when unknown). */
  private static double relativeShortfall(RuleVerdict v) {
    if (v.margin() == null || v.measured() == null) {
      return 1;
    }
    double limit = v.rule().limit().upper() ? v.measured() + v.margin() : v.measured() - v.margin();
    return Math.abs(v.margin()) / Math.max(Math.abs(limit), 1e-9);
  }

  private static @Nullable Double ratio(double candidate, double baseline) {
    return baseline > 0 ? candidate / baseline : null;
  }

  static String line(Trial t) {
    return String.format(
        Locale.ROOT,
        "trial %d (%s, %d nodes in higher precision) %s: quality %s, p95 latency ×%s, %s [%.0f s]",
        t.index(),
        t.description(),
        t.higherPrecision(),
        t.passed() ? "PASSES" : "fails",
        t.quality() == null ? "-" : String.format(Locale.ROOT, "%.5f", t.quality()),
        t.latencyRatio() == null ? "-" : String.format(Locale.ROOT, "%.2f", t.latencyRatio()),
        t.gaps().isEmpty()
            ? "every rule holds"
            : t.gaps().size()
                + " checks fail ("
                + t.gaps().get(0).rule()
                + " ["
                + t.gaps().get(0).slice()
                + "]: "
                + t.gaps().get(0).measured()
                + ")",
        t.seconds());
  }
}

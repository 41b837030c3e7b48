package io.quantguard.tune;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One full evaluation the search spent: the recipe it tried (by hash), what that recipe keeps in
 * higher precision, and how the candidate fared against the policy.
 *
 * @param phase {@code start}, {@code repair}, {@code fallback}, {@code bisect}, {@code undo} or
 *     {@code confirm}
 * @param higherPrecision nodes kept above the start recipe's precision
 * @param qualityPassed every rule on what the model computes holds (cost rules aside)
 * @param quality the first quality rule's metric value for the candidate (the curve's y axis)
 * @param latencyRatio candidate / baseline p95 latency in the same run
 * @param sizeRatio candidate / baseline model size
 * @param gaps the failed checks (empty when the policy holds)
 * @param shortfall sum of the failed checks' relative distances to their limits (0 when passed)
 */
public record Trial(
    int index,
    String phase,
    String recipeSha256,
    String description,
    int higherPrecision,
    boolean passed,
    boolean qualityPassed,
    @Nullable Double quality,
    @Nullable Double latencyRatio,
    @Nullable Double sizeRatio,
    List<Gap> gaps,
    double shortfall,
    double seconds) {

  public Trial {
    gaps = List.copyOf(gaps);
  }

  static Trial of(
      int index,
      String phase,
      String recipeSha256,
      String description,
      int higherPrecision,
      TrialRunner.Outcome o,
      double seconds) {
    return new Trial(
        index,
        phase,
        recipeSha256,
        description,
        higherPrecision,
        o.passed(),
        o.qualityPassed(),
        o.quality(),
        o.latencyRatio(),
        o.sizeRatio(),
        o.gaps(),
        o.shortfall(),
        seconds);
  }

  /**
   * One failed check: the rule, where, what was measured, the limit, and by how much it is missed.
   */
  public record Gap(String rule, String slice, String measured, String limit, String margin) {}

  /**
   * Better trials first: any passing trial before any failing one; among passing, the fewest
   * higher-precision nodes, then the lower latency; among failing, the fewest failed checks, then
   * the smallest shortfall.
   */
  static int compare(Trial a, Trial b) {
    if (a.passed != b.passed) {
      return a.passed ? -1 : 1;
    }
    if (a.passed) {
      int c = Integer.compare(a.higherPrecision, b.higherPrecision);
      if (c != 0) {
        return c;
      }
      return Double.compare(
          a.latencyRatio == null ? 1 : a.latencyRatio, b.latencyRatio == null ? 1 : b.latencyRatio);
    }
    int c = Integer.compare(a.gaps.size(), b.gaps.size());
    return c != 0 ? c : Double.compare(a.shortfall, b.shortfall);
  }
}

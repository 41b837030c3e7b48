package io.quantguard.report;

/**
 * McNemar's test of whether a candidate and the baseline, scored on the same samples, have the same
 * accuracy: the counts of discordant pairs and the p-values computed from them (the formulas are
 * with the computation, {@code io.quantguard.evaluate.McNemar}).
 *
 * @param baselineOnlyCorrect b: samples the baseline gets right and the candidate wrong
 * @param modelOnlyCorrect c: samples the candidate gets right and the baseline wrong
 * @param exactP the exact binomial p-value
 * @param midP the mid-p value, the headline
 * @param chiSquare χ² with Edwards' continuity correction
 * @param chiSquareP its p-value (1 degree of freedom)
 */
public record McNemarTest(
    long baselineOnlyCorrect,
    long modelOnlyCorrect,
    double exactP,
    double midP,
    double chiSquare,
    double chiSquareP) {

  /** The headline p-value (mid-p). */
  public double pValue() {
    return midP;
  }
}

package io.quantguard.evaluate;

import io.quantguard.report.McNemarTest;
import org.apache.commons.statistics.distribution.BinomialDistribution;
import org.apache.commons.statistics.distribution.ChiSquaredDistribution;
import org.apache.commons.statistics.inference.BinomialTest;

/**
 * McNemar's test of whether two classifiers scored on the same samples have the same accuracy. Only
 * the discordant pairs matter: b samples the baseline gets right and the model wrong, c the other
 * way round. Under H<sub>0</sub> (equal accuracy) b ~ Binomial(b + c, ½).
 *
 * <ul>
 *   <li>exact: p = min(1, 2·P(X ≤ min(b, c))) (McNemar 1947, as the exact binomial test)
 *   <li>mid-p: p = 2·P(X ≤ min(b, c)) − P(X = min(b, c)); recommended by Fagerland, Lydersen and
 *       Laake, "The McNemar test for binary matched-pairs data: mid-p and asymptotic are better
 *       than exact conditional", BMC Medical Research Methodology 13:91 (2013) — the headline
 *       p-value QuantGuard reports
 *   <li>chi-square with Edwards' continuity correction: χ² = (|b − c| − 1)² / (b + c), 1 degree of
 *       freedom (Edwards 1948)
 * </ul>
 *
 * With b + c = 0 there is no evidence of a difference and every p-value is 1. The outcome is the
 * report's {@link McNemarTest}.
 */
public final class McNemar {
  private McNemar() {}

  /**
   * @param b samples the baseline gets right and the model wrong
   * @param c samples the model gets right and the baseline wrong
   */
  public static McNemarTest test(long b, long c) {
    if (b < 0 || c < 0) {
      throw new IllegalArgumentException("negative counts");
    }
    long n = b + c;
    if (n == 0) {
      return new McNemarTest(b, c, 1, 1, 0, 1);
    }
    if (n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("too many discordant pairs for an exact test: " + n);
    }
    int k = (int) Math.min(b, c);
    double exact = BinomialTest.withDefaults().test((int) n, (int) b, 0.5).getPValue();
    BinomialDistribution x = BinomialDistribution.of((int) n, 0.5);
    double mid = Math.min(1, 2 * x.cumulativeProbability(k) - x.probability(k));
    double d = Math.max(0, Math.abs(b - c) - 1.0);
    double chi = d * d / n;
    double chiP = ChiSquaredDistribution.of(1).survivalProbability(chi);
    return new McNemarTest(b, c, Math.min(1, exact), mid, chi, chiP);
  }
}

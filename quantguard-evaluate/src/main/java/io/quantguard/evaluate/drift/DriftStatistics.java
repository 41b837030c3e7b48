package io.quantguard.evaluate.drift;

import org.apache.commons.statistics.inference.ChiSquareTest;
import org.apache.commons.statistics.inference.KolmogorovSmirnovTest;
import org.apache.commons.statistics.inference.SignificanceResult;

/**
 * The distribution comparisons drift monitoring uses, as Evidently defines them (its {@code
 * stattests} module, 0.4–0.7), reference r against window w:
 *
 * <ul>
 *   <li><b>Kolmogorov–Smirnov</b> (two-sample): D = sup<sub>x</sub> |F<sub>r</sub>(x) −
 *       F<sub>w</sub>(x)| over the empirical distribution functions, and its p-value (exact for m·n
 *       &lt; 10,000, else the asymptotic Kolmogorov distribution), from Apache Commons Statistics.
 *       Drift when p &lt; 0.05. With ties (discrete features) the p-value is conservative.
 *   <li><b>Chi-square</b> goodness of fit of the window's category counts o<sub>i</sub> (n in all)
 *       to the reference's shares p<sub>i</sub>: χ² = Σ (o<sub>i</sub> − n·p<sub>i</sub>)² /
 *       (n·p<sub>i</sub>) with C − 1 degrees of freedom; a category the reference never showed gets
 *       the share ε (then all shares are renormalized) rather than an infinite statistic. Drift
 *       when p &lt; 0.05.
 *   <li><b>Normed Wasserstein</b>: W<sub>1</sub>(r, w) = ∫ |F<sub>r</sub>(x) − F<sub>w</sub>(x)| dx
 *       (the earth mover's distance on the line), divided by max(σ<sub>r</sub>, 0.001), the
 *       reference's population standard deviation: "how many reference standard deviations the mass
 *       moved". Drift when ≥ 0.1.
 *   <li><b>Jensen–Shannon distance</b> over shared bins: JS = √(½ KL(p ‖ m) + ½ KL(q ‖ m)), m = (p
 *       + q)/2, natural logarithm (so 0 ≤ JS ≤ √ln 2 ≈ 0.833; as {@code
 *       scipy.spatial.distance.jensenshannon}). Drift when ≥ 0.1.
 *   <li><b>PSI</b>, the population stability index over shared bins: PSI = Σ (q<sub>i</sub> −
 *       p<sub>i</sub>) ln(q<sub>i</sub> / p<sub>i</sub>), with an empty bin's share replaced by ε =
 *       10<sup>−4</sup> (Evidently's and the credit-scoring literature's habit; Yurdakul,
 *       "Statistical properties of population stability index", 2018). Drift when ≥ 0.2 (&lt; 0.1
 *       stable, 0.1–0.2 moderate shift). For small differences PSI ≈ Σ (q<sub>i</sub> −
 *       p<sub>i</sub>)² / p<sub>i</sub>, so a window of n samples drawn from the reference itself
 *       (m samples, k bins) already scores about (k − 1)(1/n + 1/m): 0.18 for n = 120, m = 1,000, k
 *       = 20. PSI needs windows of several hundred samples; smaller ones are what KS and chi-square
 *       are for.
 * </ul>
 */
public final class DriftStatistics {
  private DriftStatistics() {}

  /** A test statistic and its p-value. */
  public record Test(double statistic, double pValue) {}

  /** Two-sample Kolmogorov–Smirnov test; both samples must be non-empty. */
  public static Test kolmogorovSmirnov(double[] reference, double[] window) {
    KolmogorovSmirnovTest.TwoResult r =
        KolmogorovSmirnovTest.withDefaults().test(reference, window);
    return new Test(r.getStatistic(), r.getPValue());
  }

  /**
   * Chi-square goodness of fit of {@code counts} to the reference's {@code shares}, with {@code
   * epsilon} for categories the reference never showed.
   */
  public static Test chiSquare(double[] shares, long[] counts, double epsilon) {
    if (shares.length != counts.length || shares.length < 2) {
      throw new IllegalArgumentException(
          "chi-square needs the same two or more categories on both sides");
    }
    long n = 0;
    for (long c : counts) {
      n += c;
    }
    double[] floored = new double[shares.length];
    double sum = 0;
    for (int i = 0; i < shares.length; i++) {
      floored[i] = Math.max(shares[i], epsilon);
      sum += floored[i];
    }
    double[] expected = new double[shares.length];
    for (int i = 0; i < shares.length; i++) {
      expected[i] = n * floored[i] / sum;
    }
    SignificanceResult r = ChiSquareTest.withDefaults().test(expected, counts);
    return new Test(r.getStatistic(), r.getPValue());
  }

  /**
   * W<sub>1</sub> between two samples given in ascending order: the area between their empirical
   * distribution functions, summed over the gaps between consecutive distinct values.
   */
  public static double wasserstein(double[] a, double[] b) {
    int i = 0;
    int j = 0;
    double area = 0;
    double x = Math.min(a[0], b[0]);
    while (i < a.length || j < b.length) {
      double next = j >= b.length || (i < a.length && a[i] <= b[j]) ? a[i] : b[j];
      area += Math.abs((double) i / a.length - (double) j / b.length) * (next - x);
      x = next;
      while (i < a.length && a[i] == x) {
        i++;
      }
      while (j < b.length && b[j] == x) {
        j++;
      }
    }
    return area;
  }

  /** Jensen–Shannon distance (natural log) between two distributions over the same bins. */
  public static double jensenShannon(double[] p, double[] q) {
    double d = 0;
    for (int i = 0; i < p.length; i++) {
      double m = (p[i] + q[i]) / 2;
      if (p[i] > 0) {
        d += 0.5 * p[i] * Math.log(p[i] / m);
      }
      if (q[i] > 0) {
        d += 0.5 * q[i] * Math.log(q[i] / m);
      }
    }
    return Math.sqrt(Math.max(0, d));
  }

  /** Population stability index of window shares {@code q} against reference shares {@code p}. */
  public static double psi(double[] p, double[] q, double epsilon) {
    double psi = 0;
    for (int i = 0; i < p.length; i++) {
      double a = p[i] == 0 ? epsilon : p[i];
      double b = q[i] == 0 ? epsilon : q[i];
      psi += (b - a) * Math.log(b / a);
    }
    return psi;
  }
}

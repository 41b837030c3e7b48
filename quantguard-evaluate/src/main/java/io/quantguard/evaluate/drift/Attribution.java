package io.quantguard.evaluate.drift;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.commons.statistics.ranking.NaturalRanking;
import org.apache.commons.statistics.ranking.TiesStrategy;

/**
 * Which drift went with a quality drop: given, over a series of windows, a quality metric (the live
 * cosine to FP32, the flip rate, accuracy from feedback) and named drift series (a feature's drift
 * {@linkplain DriftResult.FeatureDrift#magnitude magnitude}, a tensor's overflow rate), ranks the
 * series by how closely they rise as quality falls, so a report can say "quality fell when input X
 * drifted" or "… when tensor T overflowed".
 *
 * <p>The association is Spearman's rank correlation ρ = Pearson's r of the ranks (ties get their
 * average rank), sign-adjusted so that positive means "more drift, worse quality": −ρ for a
 * higher-is-better metric. Spearman rather than Pearson because the series live on unrelated scales
 * (p-value magnitudes, distances, rates) and need only move together, not linearly, and because one
 * extreme window cannot dominate it. With a handful of windows it is a ranking, not a proof:
 * windows with a missing value in either series are left out pair by pair, and fewer than three
 * windows give NaN.
 */
public final class Attribution {
  private Attribution() {}

  /**
   * One drift series' association with the quality drop.
   *
   * @param association sign-adjusted Spearman ρ in [−1, 1]: 1 when the series' ranking over the
   *     windows is exactly the ranking of quality from best to worst
   * @param windows windows with both values
   */
  public record Ranked(String name, double association, int windows) {}

  /**
   * Ranks {@code drift} series by their association with a fall of {@code quality}, strongest first
   * (NaN last).
   */
  public static List<Ranked> rank(
      double[] quality, boolean higherIsBetter, Map<String, double[]> drift) {
    List<Ranked> out = new ArrayList<>();
    for (Map.Entry<String, double[]> e : drift.entrySet()) {
      double[] x = e.getValue();
      if (x.length != quality.length) {
        throw new IllegalArgumentException(
            e.getKey() + " has " + x.length + " windows, quality has " + quality.length);
      }
      List<double[]> pairs = new ArrayList<>();
      for (int i = 0; i < x.length; i++) {
        if (Double.isFinite(x[i]) && Double.isFinite(quality[i])) {
          pairs.add(new double[] {x[i], quality[i]});
        }
      }
      double rho = spearman(pairs);
      out.add(new Ranked(e.getKey(), higherIsBetter ? -rho : rho, pairs.size()));
    }
    out.sort(
        Comparator.comparingDouble((Ranked r) -> Double.isNaN(r.association()) ? 1 : 0)
            .thenComparing(Comparator.comparingDouble(Ranked::association).reversed()));
    return out;
  }

  /** Spearman's ρ of the pairs (x, y); NaN for fewer than three or a constant series. */
  static double spearman(List<double[]> pairs) {
    int n = pairs.size();
    if (n < 3) {
      return Double.NaN;
    }
    double[] x = new double[n];
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = pairs.get(i)[0];
      y[i] = pairs.get(i)[1];
    }
    NaturalRanking ranking = new NaturalRanking(TiesStrategy.AVERAGE);
    return pearson(ranking.apply(x), ranking.apply(y));
  }

  /** r = Σ(x − x̄)(y − ȳ) / √(Σ(x − x̄)² Σ(y − ȳ)²); NaN when either series is constant. */
  static double pearson(double[] x, double[] y) {
    double mx = 0;
    double my = 0;
    for (int i = 0; i < x.length; i++) {
      mx += x[i] / x.length;
      my += y[i] / y.length;
    }
    double sxy = 0;
    double sxx = 0;
    double syy = 0;
    for (int i = 0; i < x.length; i++) {
      sxy += (x[i] - mx) * (y[i] - my);
      sxx += (x[i] - mx) * (x[i] - mx);
      syy += (y[i] - my) * (y[i] - my);
    }
    return sxx == 0 || syy == 0 ? Double.NaN : sxy / Math.sqrt(sxx * syy);
  }
}

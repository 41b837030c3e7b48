package io.quantguard.benchmarks;

import java.util.Arrays;

/** Summaries of per-round figures: measurements alternate their variants and report medians. */
public final class Rounds {
  private Rounds() {}

  /** The median of the rounds (the mean of the middle two for an even count). */
  public static double median(double[] rounds) {
    double[] s = rounds.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
}

package io.quantguard.evaluate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.quantguard.report.MetricEstimate;
import io.quantguard.report.MetricSpec;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BootstrapTest {
  /** Mean of 0/1 values for the model and the baseline, and their disagreement rate. */
  static SampleTable bernoulli(boolean[] model, boolean[] baseline) {
    return new SampleTable() {
      @Override
      public int size() {
        return model.length;
      }

      @Override
      public List<MetricSpec> metrics() {
        return List.of(
            MetricSpec.absolute("accuracy", true), MetricSpec.againstBaseline("flip_rate", false));
      }

      @Override
      public void evaluate(int[] w, double[] mv, double[] bv) {
        int n = 0;
        int m = 0;
        int b = 0;
        int flips = 0;
        for (int row = 0; row < w.length; row++) {
          n += w[row];
          m += model[row] ? w[row] : 0;
          b += baseline[row] ? w[row] : 0;
          flips += model[row] != baseline[row] ? w[row] : 0;
        }
        mv[0] = (double) m / n;
        bv[0] = (double) b / n;
        mv[1] = (double) flips / n;
      }
    };
  }

  @Test
  void typeSevenQuantiles() {
    double[] v = {1, 2, 3, 4};
    assertThat(Bootstrap.quantile(v, 0.25)).isCloseTo(1.75, within(1e-12));
    assertThat(Bootstrap.quantile(v, 0)).isEqualTo(1.0);
    assertThat(Bootstrap.quantile(v, 1)).isEqualTo(4.0);
    assertThat(Bootstrap.interval(new double[] {Double.NaN, 2, 1}, 0.5))
        .containsExactly(1.25, 1.75);
  }

  @Test
  void percentileIntervalMatchesTheNormalApproximationForAProportion() {
    Random r = new Random(3);
    int n = 4000;
    boolean[] model = new boolean[n];
    boolean[] base = new boolean[n];
    for (int i = 0; i < n; i++) {
      base[i] = r.nextDouble() < 0.8;
      model[i] = r.nextDouble() < 0.05 ? !base[i] : base[i];
    }
    MetricEstimate acc = Bootstrap.defaults().estimate(bernoulli(model, base)).get(0);
    double p = acc.value();
    double halfWidth = 1.96 * Math.sqrt(p * (1 - p) / n);
    assertThat(acc.low()).isCloseTo(p - halfWidth, within(0.003));
    assertThat(acc.high()).isCloseTo(p + halfWidth, within(0.003));
    // The paired difference has the spread of the per-sample differences d = m − b, far smaller
    // than either accuracy's because samples agree 95 % of the time.
    double mean = 0;
    double sq = 0;
    for (int i = 0; i < n; i++) {
      double d = (model[i] ? 1 : 0) - (base[i] ? 1 : 0);
      mean += d / n;
      sq += d * d / n;
    }
    double sd = Math.sqrt((sq - mean * mean) / n);
    assertThat(acc.deltaHigh() - acc.deltaLow()).isCloseTo(2 * 1.96 * sd, within(0.002));
    assertThat(acc.deltaHigh() - acc.deltaLow()).isLessThan(0.7 * (acc.high() - acc.low()));
    assertThat(acc.deltaLow()).isLessThanOrEqualTo(acc.delta());
    assertThat(acc.deltaHigh()).isGreaterThanOrEqualTo(acc.delta());
  }

  @Test
  void sameSeedSameIntervalsOtherSeedOthers() {
    boolean[] model = {true, false, true, true, false, true, true, true, false, true};
    boolean[] base = {true, true, true, false, false, true, true, true, true, true};
    var a = Bootstrap.defaults().estimate(bernoulli(model, base));
    var b = Bootstrap.defaults().estimate(bernoulli(model, base));
    var c = new Bootstrap(1000, 0.95, 43).estimate(bernoulli(model, base));
    assertThat(a).isEqualTo(b);
    assertThat(c).isNotEqualTo(a);
    MetricEstimate flips = a.get(1);
    assertThat(flips.vsBaseline()).isTrue();
    assertThat(flips.value()).isCloseTo(0.3, within(1e-12));
    assertThat(flips.baseline()).isNull();
    assertThat(flips.delta()).isNull();
  }

  @Test
  void zeroResamplesGiveThePointEstimateOnly() {
    var e =
        new Bootstrap(0, 0.95, 1).estimate(bernoulli(new boolean[] {true}, new boolean[] {false}));
    assertThat(e.get(0).value()).isEqualTo(1.0);
    assertThat(e.get(0).low()).isNull();
    assertThat(e.get(0).delta()).isEqualTo(1.0);
  }

  @Test
  void poissonWeightsHaveMeanAndVarianceOne() {
    int n = 200_000;
    double sum = 0;
    double sq = 0;
    long zeros = 0;
    for (int i = 0; i < n; i++) {
      int w = Bootstrap.poisson(Bootstrap.mix(42 ^ Bootstrap.mix(i)), 7);
      sum += w;
      sq += (double) w * w;
      zeros += w == 0 ? 1 : 0;
    }
    double mean = sum / n;
    assertThat(mean).isCloseTo(1, within(0.01));
    assertThat(sq / n - mean * mean).isCloseTo(1, within(0.02));
    assertThat((double) zeros / n).isCloseTo(Math.exp(-1), within(0.005));
  }

  @Test
  void poissonIntervalsAgreeWithMultinomialOnesAndDependOnKeysNotPositions() {
    Random r = new Random(5);
    int n = 4000;
    boolean[] model = new boolean[n];
    boolean[] base = new boolean[n];
    for (int i = 0; i < n; i++) {
      base[i] = r.nextDouble() < 0.8;
      model[i] = r.nextDouble() < 0.05 ? !base[i] : base[i];
    }
    Bootstrap poisson = Bootstrap.defaults().with(Bootstrap.Resampling.POISSON);
    MetricEstimate p = poisson.estimate(bernoulli(model, base)).get(0);
    MetricEstimate m = Bootstrap.defaults().estimate(bernoulli(model, base)).get(0);
    assertThat(p.value()).isEqualTo(m.value());
    assertThat(p.high() - p.low()).isCloseTo(m.high() - m.low(), within(0.003));
    assertThat(p.deltaHigh() - p.deltaLow()).isCloseTo(m.deltaHigh() - m.deltaLow(), within(0.003));
    // Rows reversed, keys kept: the same replicates, so the same intervals.
    boolean[] rm = new boolean[n];
    boolean[] rb = new boolean[n];
    for (int i = 0; i < n; i++) {
      rm[i] = model[n - 1 - i];
      rb[i] = base[n - 1 - i];
    }
    SampleTable reversed = bernoulli(rm, rb);
    SampleTable keyed =
        new SampleTable() {
          @Override
          public int size() {
            return n;
          }

          @Override
          public List<MetricSpec> metrics() {
            return reversed.metrics();
          }

          @Override
          public void evaluate(int[] w, double[] mv, double[] bv) {
            reversed.evaluate(w, mv, bv);
          }

          @Override
          public long key(int row) {
            return n - 1 - row;
          }
        };
    assertThat(poisson.estimate(keyed)).isEqualTo(poisson.estimate(bernoulli(model, base)));
  }
}

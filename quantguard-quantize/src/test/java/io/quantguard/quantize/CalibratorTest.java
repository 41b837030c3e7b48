package io.quantguard.quantize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.InvalidInputException;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CalibratorTest {
  private static final Scheme INT8 = Scheme.of(DataType.INT8, true);
  private static final Scheme UINT8 = Scheme.of(DataType.UINT8, false);

  private static float[] gaussian(int n, long seed, float scale, float shift) {
    Random r = new Random(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) r.nextGaussian() * scale + shift;
    }
    return x;
  }

  private static TensorStatistics stats(float[]... batches) {
    TensorStatistics s = new TensorStatistics("t");
    for (float[] b : batches) {
      s.add(b);
    }
    return s;
  }

  @Test
  void histogramsMergeToTheSameStateWhateverTheSplitOrOrder() {
    float[] a = gaussian(20_000, 1, 1f, 0f);
    float[] b = gaussian(20_000, 2, 30f, 5f);
    float[] c = gaussian(5_000, 3, 0.01f, -2f);
    Histogram whole = new Histogram(256);
    whole.add(a, 0, a.length);
    whole.add(b, 0, b.length);
    whole.add(c, 0, c.length);
    Histogram reversed = new Histogram(256);
    reversed.add(c, 0, c.length);
    reversed.add(b, 0, b.length);
    reversed.add(a, 0, a.length);
    Histogram left = new Histogram(256);
    left.add(c, 0, c.length);
    Histogram right = new Histogram(256);
    right.add(b, 0, b.length);
    right.add(a, 0, a.length);
    left.merge(right);
    assertThat(reversed).isEqualTo(whole);
    assertThat(left).isEqualTo(whole);
    assertThat(whole.total()).isEqualTo(45_000);
    long sum = 0;
    for (long v : whole.absoluteCounts()) {
      sum += v;
    }
    assertThat(sum).isEqualTo(45_000);
  }

  @Test
  void minMaxIsExactAndTheAverageDampsOutlierBatches() {
    TensorStatistics s =
        stats(new float[] {-1f, 2f}, new float[] {-1f, 2f}, new float[] {-1f, 50f});
    assertThat(new Calibrator.MinMax(false).range(s, UINT8)).isEqualTo(new Range(-1, 50));
    assertThat(new Calibrator.MinMax(true).range(s, UINT8).max()).isEqualTo(18.0);
  }

  @Test
  void percentileClipsRareOutliers() {
    float[] x = gaussian(100_000, 4, 1f, 0f);
    x[17] = 1000f;
    Range r = new Calibrator.Percentile(99.99).range(stats(x), INT8);
    assertThat(r.max()).isBetween(3.0, 5.0);
    assertThat(r.min()).isEqualTo(-r.max());
    Range sides = new Calibrator.Percentile(99.99).range(stats(x), UINT8);
    assertThat(sides.max()).isBetween(3.0, 5.0);
    assertThat(sides.min()).isBetween(-5.0, -3.0);
  }

  @Test
  void entropyPicksAThresholdInsideTheBulkOfAHeavyTailedDistribution() {
    float[] x = gaussian(200_000, 5, 1f, 0f);
    for (int i = 0; i < 20; i++) {
      x[i * 97] = 60f + i;
    }
    Range r = new Calibrator.Entropy().range(stats(x), INT8);
    assertThat(r.max()).isBetween(2.0, 20.0);
    // Post-ReLU style data uses all 256 levels of uint8 for magnitudes.
    float[] relu = gaussian(200_000, 6, 1f, 0f);
    for (int i = 0; i < relu.length; i++) {
      relu[i] = Math.max(0, relu[i]);
    }
    relu[3] = 80f;
    Range u = new Calibrator.Entropy().range(stats(relu), UINT8);
    assertThat(u.min()).isZero();
    assertThat(u.max()).isBetween(2.0, 20.0);
  }

  @Test
  void mseKeepsTheFullRangeOfUniformDataAndClipsGaussianTailsAtLowBitWidths() {
    Random r = new Random(7);
    float[] uniform = new float[100_000];
    for (int i = 0; i < uniform.length; i++) {
      uniform[i] = r.nextFloat() * 2 - 1;
    }
    assertThat(new Calibrator.Mse().range(stats(uniform), INT8).max()).isGreaterThan(0.95);
    assertThat(new Calibrator.Mse().range(stats(uniform), UINT8).min()).isLessThan(-0.95);
    // For a unit Gaussian and 4 bits the MSE-optimal clip is about 2.5 sigma (Banner et al.,
    // "ACIQ", 2019), far inside the observed maximum of about 4.4 sigma.
    float[] g = gaussian(100_000, 8, 1f, 0f);
    Range r4 = new Calibrator.Mse().range(stats(g), Scheme.of(DataType.INT4, true));
    assertThat(r4.max()).isBetween(2.0, 3.2);
    assertThat(stats(g).range().absMax()).isGreaterThan(4.0);
  }

  @Test
  void everyMethodGivesTheSameRangeFromMergedStatistics() {
    float[] a = gaussian(30_000, 9, 2f, 1f);
    float[] b = gaussian(30_000, 10, 0.5f, -1f);
    TensorStatistics whole = stats(a, b);
    TensorStatistics left = stats(a);
    left.merge(stats(b));
    for (Calibrator c :
        new Calibrator[] {
          new Calibrator.MinMax(false),
          new Calibrator.Percentile(99.9),
          new Calibrator.Entropy(),
          new Calibrator.Mse()
        }) {
      for (Scheme s : new Scheme[] {INT8, UINT8}) {
        assertThat(c.range(left, s)).as(c.method() + " " + s).isEqualTo(c.range(whole, s));
      }
    }
  }

  @Test
  void rejectsNonFiniteActivationsNamingTheTensor() {
    TensorStatistics s = new TensorStatistics("layer3/out");
    assertThatThrownBy(() -> s.add(new float[] {1f, Float.NaN}))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("'layer3/out'")
        .hasMessageContaining("NaN");
    assertThatThrownBy(() -> s.add(new float[] {Float.NEGATIVE_INFINITY}))
        .hasMessageContaining("-Infinity");
  }
}

package io.quantguard.quantize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TestModels;
import io.quantguard.runtime.data.DataSource;
import org.junit.jupiter.api.Test;

/** SmoothQuant's factors, its exactness before quantization, and the per-channel statistics. */
class SmoothQuantTest {
  @Test
  void factorsBalanceActivationAndWeightRanges() {
    float[] x = {4f, 1f, 0f, 9f, 1e12f};
    float[] w = {1f, 4f, 2f, 0f, 1e-12f};
    float[] half = SmoothQuant.factors(x, w, 0.5);
    // √4/√1 = 2, √1/√4 = 0.5, a zero on either side leaves the channel alone, 1e12 is clamped.
    assertThat(half).containsExactly(2f, 0.5f, 1f, 1f, 1e5f);
    float[] more = SmoothQuant.factors(x, w, 0.75);
    assertThat(more[0]).isCloseTo((float) Math.pow(4, 0.75), within(1e-6f)); // 2.828
    assertThat(more[1]).isCloseTo((float) Math.pow(4, -0.25), within(1e-6f)); // 0.7071
    // α = 0 normalizes every weight row to max 1; α = 1 every activation channel.
    assertThat(SmoothQuant.factors(new float[] {3f}, new float[] {0.5f}, 0)).containsExactly(2f);
    assertThat(SmoothQuant.factors(new float[] {3f}, new float[] {0.5f}, 1)).containsExactly(3f);
    // After α = 0.5 both sides of channel 0 have range √(4·1) = 2.
    assertThat(x[0] / half[0]).isEqualTo(2f);
    assertThat(w[0] * half[0]).isEqualTo(2f);
  }

  @Test
  void smoothedProductEqualsThePlainProductInFloat() {
    // X [3, 4] with an outlier channel (column 2), W [4, 2]; W stored transposed for Gemm.
    float[] x = {0.5f, -1f, 60f, 0.25f, 1.5f, 0.75f, -45f, -0.5f, -0.25f, 2f, 30f, 1f};
    float[] w = {0.2f, -0.1f, 0.05f, 0.3f, -0.01f, 0.02f, 0.4f, -0.6f};
    long[] wDims = {4, 2};
    float[] wT = {0.2f, 0.05f, -0.01f, 0.4f, -0.1f, 0.3f, 0.02f, -0.6f};
    long[] wTDims = {2, 4};
    float[] xMax = new float[4];
    for (int r = 0; r < 3; r++) {
      for (int j = 0; j < 4; j++) {
        xMax[j] = Math.max(xMax[j], Math.abs(x[r * 4 + j]));
      }
    }
    float[] wMax = SmoothQuant.weightRowAbsMax(w, wDims, false);
    assertThat(wMax).containsExactly(0.2f, 0.3f, 0.02f, 0.6f);
    assertThat(SmoothQuant.weightRowAbsMax(wT, wTDims, true)).containsExactly(wMax);
    float[] s = SmoothQuant.factors(xMax, wMax, 0.5);
    // The outlier channel: √60 / √0.02 = √3000 ≈ 54.77.
    assertThat(s[2]).isCloseTo((float) Math.sqrt(3000), within(1e-3f));
    float[] inv = SmoothQuant.inverse(s);
    float[] sw = SmoothQuant.scaleWeight(w, wDims, false, s);
    float[] swT = SmoothQuant.scaleWeight(wT, wTDims, true, s);
    for (int r = 0; r < 3; r++) {
      for (int n = 0; n < 2; n++) {
        double plain = 0;
        float smoothed = 0;
        float smoothedT = 0;
        for (int k = 0; k < 4; k++) {
          plain += (double) x[r * 4 + k] * w[k * 2 + n];
          smoothed += (x[r * 4 + k] * inv[k]) * sw[k * 2 + n];
          smoothedT += (x[r * 4 + k] * inv[k]) * swT[n * 4 + k];
        }
        assertThat((double) smoothed).isCloseTo(plain, within(1e-5 * (1 + Math.abs(plain))));
        assertThat(smoothedT).isEqualTo(smoothed);
      }
    }
    // The smoothed activation's range from per-channel extremes: [min_j min_j/s_j, max_j ...].
    ChannelStatistics cs = new ChannelStatistics(4);
    cs.add(x);
    Range range = SmoothQuant.smoothedRange(cs, s);
    double lo = Double.MAX_VALUE;
    double hi = -Double.MAX_VALUE;
    for (int i = 0; i < x.length; i++) {
      float v = x[i] * inv[i % 4];
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    assertThat(range).isEqualTo(new Range(lo, hi));
    // The outlier no longer decides the range alone: max |X/s| is well below max |X| = 60.
    assertThat(range.absMax()).isLessThan(10);
  }

  @Test
  void channelStatisticsKeepExtremesAndMeansAndMerge() {
    // Rows of 3 channels.
    float[] a = {1f, -2f, 0f, 3f, 4f, -1f};
    float[] b = {-5f, 0f, 2f};
    ChannelStatistics whole = new ChannelStatistics(3);
    whole.add(a);
    whole.add(b);
    assertThat(whole.count()).isEqualTo(3);
    assertThat(whole.min(0)).isEqualTo(-5f);
    assertThat(whole.max(0)).isEqualTo(3f);
    assertThat(whole.absMax(1)).isEqualTo(4f);
    assertThat(whole.mean(0)).isCloseTo(-1 / 3.0, within(1e-12));
    assertThat(whole.mean(2)).isCloseTo(1 / 3.0, within(1e-12));
    assertThat(whole.meanAbs(1)).isCloseTo(2.0, within(1e-12));
    ChannelStatistics left = new ChannelStatistics(3);
    left.add(b);
    ChannelStatistics right = new ChannelStatistics(3);
    right.add(a);
    left.merge(right);
    for (int k = 0; k < 3; k++) {
      assertThat(left.min(k)).isEqualTo(whole.min(k));
      assertThat(left.max(k)).isEqualTo(whole.max(k));
      assertThat(left.mean(k)).isCloseTo(whole.mean(k), within(1e-12));
      assertThat(left.meanSquare(k)).isCloseTo(whole.meanSquare(k), within(1e-12));
    }
    // NCHW: 1 image, 2 channels of 2×2; channel c owns 4 consecutive values.
    ChannelStatistics conv =
        new ChannelStatistics(
            "x", new ChannelStatistics.Layout(2, ChannelStatistics.Axis.NCHW, false), 0);
    conv.add(new float[] {1f, 2f, 3f, 6f, -1f, -1f, -1f, 7f}, new long[] {1, 2, 2, 2});
    assertThat(conv.count()).isEqualTo(4);
    assertThat(conv.mean(0)).isEqualTo(3.0);
    assertThat(conv.mean(1)).isEqualTo(1.0);
    assertThat(conv.max(1)).isEqualTo(7f);
    assertThatThrownBy(() -> conv.add(new float[] {Float.NaN, 0, 0, 0}, new long[] {1, 2, 2, 1}))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("'x'");
  }

  @Test
  void recipesCarryBothOptionsThroughTheirCanonicalForm() {
    Recipe r =
        RecipeIO.parse(
            """
            smooth: 0.5
            weights: {bias_correction: true}
            overrides: [{node_regex: 'output/dense', smooth: 0.75}]
            calibration: {channels: true}
            """,
            "r.yaml");
    assertThat(r.smooth()).isEqualTo(0.5);
    assertThat(r.overrides().get(0).smooth()).isEqualTo(0.75);
    assertThat(r.resolved().weights().biasCorrection()).isTrue();
    assertThat(r.resolved().calibration().keepsChannels()).isTrue();
    assertThat(RecipeIO.parse(RecipeIO.toJson(r.resolved()), "json")).isEqualTo(r.resolved());
    assertThat(RecipeIO.toJson(r.resolved()))
        .contains("\"smooth\":0.5", "\"bias_correction\":true", "\"channels\":true");
    // Recipes without the options keep their canonical form (and hash).
    Recipe plain = RecipeIO.parse("mode: static", "p.yaml").resolved();
    assertThat(RecipeIO.toJson(plain)).doesNotContain("smooth", "bias_correction", "channels");
    assertThat(plain.calibration().keepsChannels()).isTrue();
    assertThat(plain.weights().biasCorrection()).isNull();
  }

  /**
   * The smoothed FP32 model that quantization-aware training trains comes with a recipe that
   * quantizes the same nodes without smoothing again, even where an override only smoothed.
   */
  @Test
  void theSmoothedModelsRecipeQuantizesWhatTheOriginalDid() {
    OnnxModel cnn = ModelIO.load(TestModels.fashionCnn());
    DataSource images = Accuracy.calibrationImages(200);
    Recipe recipe =
        RecipeIO.parse(
            "op_types: [Conv]\noverrides:\n  - {node: /net/f1/Gemm, smooth: 0.5}\n", "recipe");
    Calibration original = Quantizer.calibrate(cnn, recipe, images, Quantizer.Options.defaults());
    QdqPlan before = Quantizer.staticPlan(original, recipe);
    assertThat(before.smooths()).isTrue();

    Quantizer.Smoothed smoothed = Quantizer.smoothed(original, recipe);
    assertThat(smoothed.model().graph().nodes())
        .filteredOn(n -> n.opType().equals("Mul"))
        .hasSize(1);
    assertThat(smoothed.recipe().overrides())
        .anyMatch(o -> "/net/f1/Gemm".equals(o.node()) && o.smooth() == null)
        .anyMatch(o -> o.tensor() != null && o.tensor().endsWith("_smoothed"));
    Calibration again =
        Quantizer.calibrate(
            smoothed.model(), smoothed.recipe(), images, Quantizer.Options.defaults());
    QdqPlan after = Quantizer.staticPlan(again, smoothed.recipe());
    assertThat(after.smooths()).isFalse();
    assertThat(after.quantizedByOp()).isEqualTo(before.quantizedByOp()).containsKey("Gemm");
  }
}

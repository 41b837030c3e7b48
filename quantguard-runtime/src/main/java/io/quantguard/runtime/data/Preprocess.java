package io.quantguard.runtime.data;

import io.quantguard.onnx.InvalidInputException;
import java.util.Arrays;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Declared image preprocessing: {@code x' = (x * scale - mean[c]) / std[c]} per channel, then the
 * layout the model wants. Declaring it (rather than coding it per dataset) keeps calibration and
 * evaluation data identical to what the model saw in training.
 *
 * @param layout nchw (channels first, the default), nhwc (channels last) or flat (one vector per
 *     sample)
 */
record Preprocess(double scale, double @Nullable [] mean, double @Nullable [] std, String layout) {

  static Preprocess from(DataOptions o, double defaultScale) {
    double scale = o.number("scale", defaultScale);
    double[] mean = o.numbers("mean");
    double[] std = o.numbers("std");
    String layout = o.string("layout", "nchw").toLowerCase(Locale.ROOT);
    if (!layout.equals("nchw") && !layout.equals("nhwc") && !layout.equals("flat")) {
      throw new InvalidInputException(
          o.spec(), "layout=" + layout + " is not nchw, nhwc or flat", "pick one of those");
    }
    if (std != null) {
      for (double s : std) {
        if (s == 0) {
          throw new InvalidInputException(
              o.spec(), "std contains 0", "give non-zero standard deviations");
        }
      }
    }
    return new Preprocess(scale, mean, std, layout);
  }

  /**
   * Applies scale/mean/std in place to {@code n} samples of {@code channels × pixels} (channels
   * first).
   */
  void normalize(float[] x, int channels, int pixels) {
    int perSample = channels * pixels;
    for (int i = 0; i < x.length; i++) {
      int c = (i % perSample) / pixels;
      double v = x[i] * scale;
      if (mean != null) {
        v -= mean[mean.length == 1 ? 0 : c];
      }
      if (std != null) {
        v /= std[std.length == 1 ? 0 : c];
      }
      x[i] = (float) v;
    }
  }

  /** Shape of one batch of {@code n} images of {@code c × h × w} in this layout. */
  long[] shape(int n, int c, int h, int w) {
    return switch (layout) {
      case "nhwc" -> new long[] {n, h, w, c};
      case "flat" -> new long[] {n, (long) c * h * w};
      default -> new long[] {n, c, h, w};
    };
  }

  /** Reorders channels-first samples to channels-last when the layout asks for it. */
  float[] arrange(float[] chw, int n, int c, int h, int w) {
    if (!layout.equals("nhwc") || c == 1) {
      return chw;
    }
    float[] out = new float[chw.length];
    int hw = h * w;
    for (int s = 0; s < n; s++) {
      for (int ch = 0; ch < c; ch++) {
        for (int p = 0; p < hw; p++) {
          out[s * c * hw + p * c + ch] = chw[s * c * hw + ch * hw + p];
        }
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return "scale="
        + scale
        + (mean == null ? "" : " mean=" + Arrays.toString(mean))
        + (std == null ? "" : " std=" + Arrays.toString(std))
        + " layout="
        + layout;
  }
}

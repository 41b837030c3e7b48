package io.quantguard.quantize;

/**
 * Turns a tensor's {@link TensorStatistics} into the range its quantizer represents. Clipping a few
 * outliers trades a small clipping error for a finer step on everything else; the calibrators
 * differ in how they pick that trade-off.
 */
public sealed interface Calibrator
    permits Calibrator.MinMax, Calibrator.Percentile, Calibrator.Entropy, Calibrator.Mse {

  Range range(TensorStatistics stats, Scheme scheme);

  /** A short name for reports and recipes ({@code minmax}, {@code percentile}, ...). */
  String method();

  /**
   * The observed [min, max]; with {@code movingAverage}, the average of per-batch extremes, which
   * damps rare outliers (PyTorch's MovingAverageMinMaxObserver in a mergeable form).
   */
  record MinMax(boolean movingAverage) implements Calibrator {
    @Override
    public Range range(TensorStatistics stats, Scheme scheme) {
      return movingAverage ? stats.averagedRange() : stats.range();
    }

    @Override
    public String method() {
      return movingAverage ? "minmax-average" : "minmax";
    }
  }

  /**
   * Clips at the {@code percentile}-th percentile: of |x| for symmetric schemes, of each side
   * separately ({@code 100 − p} and {@code p}) otherwise. Thresholds fall on histogram bin edges
   * and never exceed the observed extremes.
   */
  record Percentile(double percentile) implements Calibrator {
    public Percentile {
      if (!(percentile > 50 && percentile <= 100)) {
        throw new IllegalArgumentException("percentile must be in (50, 100], got " + percentile);
      }
    }

    @Override
    public Range range(TensorStatistics stats, Scheme scheme) {
      Histogram h = stats.histogram();
      if (scheme.symmetric()) {
        long[] abs = h.absoluteCounts();
        double t = (HistogramSearch.quantileBin(abs, percentile / 100) + 1) * h.width();
        double m = Math.min(t, stats.range().absMax());
        return new Range(-m, m);
      }
      double lo =
          Math.max(
              stats.range().min(), HistogramSearch.quantileEdge(h, 1 - percentile / 100, false));
      double hi =
          Math.min(stats.range().max(), HistogramSearch.quantileEdge(h, percentile / 100, true));
      return new Range(Math.min(lo, hi), Math.max(lo, hi));
    }

    @Override
    public String method() {
      return "percentile";
    }
  }

  /**
   * TensorRT's entropy calibration (Migacz, "8-bit Inference with TensorRT", GTC 2017): over the
   * histogram of |x|, pick the threshold T whose clipped and quantized distribution Q stays closest
   * to the original P, minimizing KL(P ‖ Q) = Σ P·log(P / Q). Symmetric schemes use [−T, T]; affine
   * ones clip the observed range to [−T, T].
   */
  record Entropy() implements Calibrator {
    @Override
    public Range range(TensorStatistics stats, Scheme scheme) {
      Histogram h = stats.histogram();
      Range full = stats.range();
      if (scheme.symmetric()) {
        int bins = HistogramSearch.klThresholdBins(h.absoluteCounts(), scheme.levels() / 2 + 1);
        double t = Math.min(bins * h.width(), full.absMax());
        return new Range(-t, t);
      }
      // Affine: each side gets its own threshold, searched on that side's histogram alone, so a
      // spike on one side (image backgrounds, ReLU zeros) does not decide the clip of the other.
      double hi =
          full.max() <= 0
              ? full.max()
              : Math.min(
                  full.max(),
                  HistogramSearch.klThresholdBins(
                          HistogramSearch.side(h, true), scheme.levels() + 1)
                      * h.width());
      double lo =
          full.min() >= 0
              ? full.min()
              : Math.max(
                  full.min(),
                  -HistogramSearch.klThresholdBins(
                          HistogramSearch.side(h, false), scheme.levels() + 1)
                      * h.width());
      return new Range(lo, hi);
    }

    @Override
    public String method() {
      return "entropy";
    }
  }

  /**
   * The range that minimizes the expected squared quantization error over the histogram: for a grid
   * of candidate ranges, error = Σ_inside n·Δ²/12 (uniform rounding noise, Δ the step) + Σ_outside
   * n·(x − clip(x))² (clipping), evaluated in O(1) per candidate from prefix sums.
   */
  record Mse() implements Calibrator {
    @Override
    public Range range(TensorStatistics stats, Scheme scheme) {
      return HistogramSearch.minimumMse(stats, scheme);
    }

    @Override
    public String method() {
      return "mse";
    }
  }

  /**
   * Parses {@code minmax}, {@code minmax-average}, {@code percentile}, {@code entropy}, {@code
   * mse}.
   */
  static Calibrator parse(String method, double percentile) {
    return switch (method.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "minmax" -> new MinMax(false);
      case "minmax-average", "moving-average" -> new MinMax(true);
      case "percentile" -> new Percentile(percentile);
      case "entropy" -> new Entropy();
      case "mse" -> new Mse();
      default ->
          throw new IllegalArgumentException(
              "unknown calibration method '"
                  + method
                  + "' (minmax, minmax-average, percentile, entropy, mse)");
    };
  }
}

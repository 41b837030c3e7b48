package io.quantguard.evaluate;

/**
 * How closely a model's tensor y follows the baseline's tensor x (the reference), element by
 * element:
 *
 * <ul>
 *   <li>cosine similarity: cos(x, y) = x·y / (‖x‖ ‖y‖); 1 when both are zero, 0 when only one is
 *   <li>signal-to-quantization-noise ratio: SQNR = 10·log<sub>10</sub>(Σ x<sub>i</sub>² / Σ
 *       (x<sub>i</sub> − y<sub>i</sub>)²) dB, +∞ when y = x. Each bit of a uniform quantizer adds
 *       about 6.02 dB (B. Widrow and I. Kollár, <i>Quantization Noise</i>, Cambridge University
 *       Press, 2008, ch. 5), so 8-bit quantization that keeps 40 dB keeps most of its bits
 *   <li>max abs error: max<sub>i</sub> |x<sub>i</sub> − y<sub>i</sub>|
 * </ul>
 *
 * Over many samples SQNR is computed from summed energies (Σ over all elements), not as a mean of
 * per-sample decibels, so a few near-silent samples cannot dominate it.
 */
public final class TensorAgreement {
  private TensorAgreement() {}

  /** Sums over elements [{@code from}, {@code from + length}) of two arrays. */
  public record Sums(double dot, double xx, double yy, double noise, double maxAbs) {
    public double cosine() {
      if (xx == 0 && yy == 0) {
        return 1;
      }
      if (xx == 0 || yy == 0) {
        return 0;
      }
      return Math.max(-1, Math.min(1, dot / Math.sqrt(xx * yy)));
    }

    public double sqnrDb() {
      return TensorAgreement.sqnrDb(xx, noise);
    }
  }

  public static Sums sums(float[] x, float[] y, int from, int length) {
    double dot = 0;
    double xx = 0;
    double yy = 0;
    double noise = 0;
    double max = 0;
    for (int i = from; i < from + length; i++) {
      double a = x[i];
      double b = y[i];
      double d = a - b;
      dot += a * b;
      xx += a * a;
      yy += b * b;
      noise += d * d;
      max = Math.max(max, Math.abs(d));
    }
    return new Sums(dot, xx, yy, noise, max);
  }

  public static double cosine(float[] x, float[] y) {
    return sums(x, y, 0, x.length).cosine();
  }

  /** 10·log<sub>10</sub>(signal / noise); +∞ for no noise, NaN for neither. */
  public static double sqnrDb(double signal, double noise) {
    if (noise == 0) {
      return signal == 0 ? Double.NaN : Double.POSITIVE_INFINITY;
    }
    return 10 * Math.log10(signal / noise);
  }
}

package io.quantguard.report;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * How numbers look in the Markdown and HTML reports and in verdict messages (JSON keeps full
 * precision).
 */
public final class Format {
  private Format() {}

  /** A number as reports print it: n/a, ∞, 1,234, 0.1235, 1.2e−05. */
  public static String num(@Nullable Double v) {
    if (v == null || v.isNaN()) {
      return "n/a";
    }
    if (v.isInfinite()) {
      return v > 0 ? "∞" : "−∞";
    }
    double a = Math.abs(v);
    if (v == Math.rint(v) && a < 1e15) {
      return count(v.longValue()).replace("-", "−");
    }
    if (a < 1e-4) {
      return String.format(Locale.ROOT, "%.1e", v).replace("-", "−");
    }
    String s =
        a >= 1000
            ? String.format(Locale.ROOT, "%,.0f", v)
            : a >= 100
                ? String.format(Locale.ROOT, "%.1f", v)
                : String.format(Locale.ROOT, "%.4f", v);
    return s.startsWith("-") ? "−" + s.substring(1) : s;
  }

  static String signed(@Nullable Double v) {
    if (v == null || v.isNaN()) {
      return "n/a";
    }
    return (v >= 0 ? "+" : "−") + num(Math.abs(v));
  }

  static String interval(@Nullable Double lo, @Nullable Double hi) {
    return lo == null || hi == null ? "" : "[" + num(lo) + ", " + num(hi) + "]";
  }

  static String signedInterval(@Nullable Double lo, @Nullable Double hi) {
    return lo == null || hi == null ? "" : "[" + signed(lo) + ", " + signed(hi) + "]";
  }

  static String p(double p) {
    return p < 1e-4 ? String.format(Locale.ROOT, "%.1e", p) : String.format(Locale.ROOT, "%.4f", p);
  }

  static String ms(double v) {
    return String.format(Locale.ROOT, "%.2f", v);
  }

  static String count(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }

  /** 1234567 → "1.23 MB" (decimal units). */
  static String bytes(long n) {
    return ByteUnits.format(n);
  }

  /** The arrow that says which direction is better. */
  static String direction(MetricEstimate m) {
    return m.higherIsBetter() ? "↑" : "↓";
  }
}

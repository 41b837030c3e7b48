package io.quantguard.report;

import java.util.Locale;

/** Sizes for people, in the decimal units file managers show: 1234567 → "1.23 MB". */
public final class ByteUnits {
  private static final String[] UNITS = {"kB", "MB", "GB", "TB"};

  private ByteUnits() {}

  /** Formats a byte count (negative counts, such as memory deltas, keep their sign). */
  public static String format(long n) {
    if (Math.abs(n) < 1000) {
      return n + " B";
    }
    double v = n;
    int u = -1;
    while (Math.abs(v) >= 1000 && u < UNITS.length - 1) {
      v /= 1000;
      u++;
    }
    return String.format(Locale.ROOT, "%.2f %s", v, UNITS[u]);
  }
}

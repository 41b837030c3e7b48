package io.quantguard.evaluate.task;

/**
 * A sum of floats in 128-bit fixed point with 64 fractional bits: whole numbers, so any split of
 * the values, summed in any order and merged in any order, gives the same bits. Each value is
 * truncated toward zero to a multiple of 2<sup>−64</sup> (5.4·10<sup>−20</sup>) before it is added;
 * the total must stay below 2<sup>63</sup> in magnitude. A NaN or infinite value makes the sum NaN,
 * as it would a floating-point one.
 */
final class FixedSum implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  /** Beyond this shift of a 24-bit mantissa the value reaches 2^63. */
  private static final int MAX_SHIFT = 63 + 64 - 24;

  private long hi;
  private long lo;
  private boolean undefined;

  /** Adds {@code w} (≥ 0) copies of {@code v}. */
  void add(float v, long w) {
    if (!Float.isFinite(v)) {
      undefined = true;
      return;
    }
    if (v == 0 || w == 0) {
      return;
    }
    int bits = Float.floatToRawIntBits(v);
    int exponent = (bits >>> 23) & 0xff;
    long mantissa = bits & 0x7fffff;
    if (exponent == 0) {
      exponent = 1; // subnormal
    } else {
      mantissa |= 0x800000;
    }
    // v = mantissa · 2^(exponent − 150); in units of 2^−64 that is mantissa · 2^(exponent − 86).
    int shift = exponent - 86;
    if (shift > MAX_SHIFT) {
      throw tooLarge();
    }
    long h;
    long l;
    if (shift <= -24) {
      return;
    } else if (shift < 0) {
      h = 0;
      l = mantissa >>> -shift;
    } else if (shift == 0) {
      h = 0;
      l = mantissa;
    } else if (shift < 64) {
      h = mantissa >>> (64 - shift);
      l = mantissa << shift;
    } else {
      h = mantissa << (shift - 64);
      l = 0;
    }
    // times w: the high word of the unsigned product of l and w, then h · w.
    long carry = Math.multiplyHigh(l, w) + (l < 0 ? w : 0);
    try {
      h = Math.addExact(Math.multiplyExact(h, w), carry);
    } catch (ArithmeticException e) {
      throw tooLarge();
    }
    l = l * w;
    if (v < 0) {
      h = ~h + (l == 0 ? 1 : 0);
      l = -l;
    }
    addWords(h, l);
  }

  void merge(FixedSum o) {
    addWords(o.hi, o.lo);
    undefined |= o.undefined;
  }

  private void addWords(long h, long l) {
    long sum = lo + l;
    long carry = Long.compareUnsigned(sum, lo) < 0 ? 1 : 0;
    try {
      hi = Math.addExact(Math.addExact(hi, h), carry);
    } catch (ArithmeticException e) {
      throw tooLarge();
    }
    lo = sum;
  }

  /** The sum, rounded once to a double. */
  double value() {
    if (undefined) {
      return Double.NaN;
    }
    return hi + (lo >>> 1) * 0x1p-63;
  }

  private static IllegalArgumentException tooLarge() {
    return new IllegalArgumentException(
        "a per-sample value or its total reaches 2^63, beyond what the exact sum holds");
  }
}

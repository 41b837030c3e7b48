package io.quantguard.quantize;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.math.BigInteger;

/**
 * The exact sum of doubles, rounded once when read. Floating-point addition is not associative, so
 * a running double sum depends on how the data was split and in which order the parts were merged;
 * this sum does not, which makes calibration statistics computed on partitions of the data, merged
 * in any order, bit-identical to one pass over all of it. It holds {@code mantissa · 2^exponent}
 * with the exponent of the finest addend, so its size follows the spread of the addends' magnitudes
 * (typically a few machine words).
 */
final class ExactSum {
  private static final int EMPTY = Integer.MAX_VALUE;

  private BigInteger mantissa = BigInteger.ZERO;
  private int exponent = EMPTY;

  /** Adds a finite value; ±0 adds nothing. */
  void add(double v) {
    if (v == 0) {
      return;
    }
    if (!Double.isFinite(v)) {
      throw new IllegalArgumentException("cannot sum " + v);
    }
    long bits = Double.doubleToRawLongBits(v);
    int e = (int) ((bits >>> 52) & 0x7ff);
    long m = bits & 0xfffffffffffffL;
    if (e == 0) {
      e = 1;
    } else {
      m |= 1L << 52;
    }
    e -= 1075;
    int tz = Long.numberOfTrailingZeros(m);
    m >>>= tz;
    e += tz;
    add(BigInteger.valueOf(v < 0 ? -m : m), e);
  }

  void add(ExactSum other) {
    if (other.exponent != EMPTY) {
      add(other.mantissa, other.exponent);
    }
  }

  private void add(BigInteger m, int e) {
    if (exponent == EMPTY) {
      mantissa = m;
      exponent = e;
    } else if (e >= exponent) {
      mantissa = mantissa.add(m.shiftLeft(e - exponent));
    } else {
      mantissa = mantissa.shiftLeft(exponent - e).add(m);
      exponent = e;
    }
  }

  /**
   * The sum rounded to the nearest double (ties to even; a sum in the subnormal range may be off by
   * one unit in the last place).
   */
  double value() {
    if (exponent == EMPTY || mantissa.signum() == 0) {
      return 0;
    }
    BigInteger abs = mantissa.abs();
    int drop = Math.max(0, abs.bitLength() - 62);
    long top = abs.shiftRight(drop).longValueExact();
    if (drop > 0 && abs.getLowestSetBit() < drop) {
      top |= 1; // sticky bit: the rounding of the 62-bit head to 53 bits sees the dropped tail
    }
    double r = Math.scalb((double) top, exponent + drop);
    return mantissa.signum() < 0 ? -r : r;
  }

  void writeTo(DataOutput out) throws IOException {
    out.writeInt(exponent);
    byte[] b = mantissa.toByteArray();
    out.writeInt(b.length);
    out.write(b);
  }

  static ExactSum readFrom(DataInput in) throws IOException {
    ExactSum s = new ExactSum();
    s.exponent = in.readInt();
    byte[] b = new byte[in.readInt()];
    in.readFully(b);
    s.mantissa = new BigInteger(b);
    return s;
  }
}

package io.quantguard.quantize;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;

/**
 * A fixed-size streaming histogram whose range adapts as data arrives, without losing counts and
 * without depending on the order the data came in.
 *
 * <p>Bins have a width {@code w} that is a power of two and edges at integer multiples of {@code w}
 * (so 0 is always an edge); the window of {@code bins} bins starts at bin {@code floor(lo / w)}
 * where {@code lo} is the smallest value seen. When a value falls outside, {@code w} doubles and
 * pairs of bins merge exactly; when a smaller value arrives the window slides. The state after any
 * stream is therefore a function of the multiset of values alone — {@code w} is the smallest power
 * of two for which [lo, hi] fits — so histograms built on separate threads or machines {@link
 * #merge} to exactly the histogram of all the data. Memory is {@code bins} counters, whatever the
 * data size.
 */
public final class Histogram {
  private final long[] counts;
  private double width;
  private long offset;
  private double lo = Double.POSITIVE_INFINITY;
  private double hi = Double.NEGATIVE_INFINITY;
  private long total;

  public Histogram(int bins) {
    if (bins < 16) {
      throw new IllegalArgumentException("a histogram needs at least 16 bins");
    }
    counts = new long[bins];
  }

  public int bins() {
    return counts.length;
  }

  public long total() {
    return total;
  }

  public double min() {
    return lo;
  }

  public double max() {
    return hi;
  }

  public double width() {
    return width;
  }

  /** Lower edge of window bin {@code i}. */
  public double edge(int i) {
    return (offset + i) * width;
  }

  public long count(int i) {
    return counts[i];
  }

  /** Adds finite values; the caller checks for NaN and infinity. */
  public void add(float[] values, int from, int to) {
    if (from >= to) {
      return;
    }
    float bmin = Float.POSITIVE_INFINITY;
    float bmax = Float.NEGATIVE_INFINITY;
    for (int i = from; i < to; i++) {
      float v = values[i];
      if (v < bmin) {
        bmin = v;
      }
      if (v > bmax) {
        bmax = v;
      }
    }
    cover(bmin, bmax);
    double inv = 1.0 / width;
    long[] c = counts;
    long off = offset;
    int last = c.length - 1;
    for (int i = from; i < to; i++) {
      long k = (long) Math.floor(values[i] * inv) - off;
      // k can only exceed the window by rounding at the very top edge; clamp it there.
      c[k > last ? last : (int) k]++;
    }
    total += to - from;
  }

  /** Grows the window (doubling the width) and slides it so that [min, max] fits. */
  private void cover(double min, double max) {
    double newLo = Math.min(lo, min);
    double newHi = Math.max(hi, max);
    if (total == 0) {
      width = initialWidth(newLo, newHi);
    }
    while (!fits(width, newLo, newHi)) {
      doubleWidth();
    }
    long newOffset = (long) Math.floor(newLo / width);
    if (total > 0 && newOffset != offset) {
      shift(offset - newOffset);
    }
    offset = newOffset;
    lo = newLo;
    hi = newHi;
  }

  /** Smallest width considered, and the bound that keeps bin indices within a long. */
  private static final double MIN_WIDTH = 0x1p-40;

  /**
   * Whether the window at width {@code w} can hold [a, b]. Monotone in {@code w} and in the data,
   * so the smallest fitting power of two is well defined: that makes the state order-independent.
   */
  private boolean fits(double w, double a, double b) {
    double absMax = Math.max(Math.abs(a), Math.abs(b));
    return w >= MIN_WIDTH
        && w >= absMax * 0x1p-60
        && (long) Math.floor(b / w) - (long) Math.floor(a / w) < counts.length;
  }

  /** The smallest power-of-two width that fits [a, b]. */
  private double initialWidth(double a, double b) {
    double s = Math.max((b - a) / (counts.length - 1), MIN_WIDTH);
    double w = Math.pow(2, Math.ceil(Math.log(s) / Math.log(2)));
    while (!fits(w, a, b)) {
      w *= 2;
    }
    while (fits(w / 2, a, b)) {
      w /= 2;
    }
    return w;
  }

  private void doubleWidth() {
    if (total > 0) {
      long newOffset = Math.floorDiv(offset, 2);
      long[] merged = new long[counts.length];
      for (int i = 0; i < counts.length; i++) {
        if (counts[i] != 0) {
          merged[(int) (Math.floorDiv(offset + i, 2) - newOffset)] += counts[i];
        }
      }
      System.arraycopy(merged, 0, counts, 0, counts.length);
      offset = newOffset;
    }
    width *= 2;
  }

  private void shift(long by) {
    long[] moved = new long[counts.length];
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] != 0) {
        moved[(int) (i + by)] = counts[i];
      }
    }
    System.arraycopy(moved, 0, counts, 0, counts.length);
  }

  /** Adds another histogram's counts; the result is the histogram of both data sets. */
  public void merge(Histogram other) {
    if (other.counts.length != counts.length) {
      throw new IllegalArgumentException("cannot merge histograms of different sizes");
    }
    if (other.total == 0) {
      return;
    }
    if (total == 0) {
      System.arraycopy(other.counts, 0, counts, 0, counts.length);
      width = other.width;
      offset = other.offset;
      lo = other.lo;
      hi = other.hi;
      total = other.total;
      return;
    }
    Histogram o = other.copy();
    while (o.width < width) {
      o.doubleWidth();
    }
    while (width < o.width) {
      doubleWidth();
    }
    double newLo = Math.min(lo, o.lo);
    double newHi = Math.max(hi, o.hi);
    while (!fits(width, newLo, newHi)) {
      doubleWidth();
      o.doubleWidth();
    }
    long newOffset = (long) Math.floor(newLo / width);
    shift(offset - newOffset);
    offset = newOffset;
    for (int i = 0; i < counts.length; i++) {
      if (o.counts[i] != 0) {
        counts[(int) (o.offset + i - offset)] += o.counts[i];
      }
    }
    lo = newLo;
    hi = newHi;
    total += o.total;
  }

  public Histogram copy() {
    Histogram h = new Histogram(counts.length);
    System.arraycopy(counts, 0, h.counts, 0, counts.length);
    h.width = width;
    h.offset = offset;
    h.lo = lo;
    h.hi = hi;
    h.total = total;
    return h;
  }

  /**
   * The histogram of |x|: bin {@code j} counts values with |x| in [j·w, (j+1)·w). Exact, because 0
   * is always a bin edge.
   */
  public long[] absoluteCounts() {
    long maxBin = 0;
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] != 0) {
        long k = offset + i;
        maxBin = Math.max(maxBin, k >= 0 ? k : -k - 1);
      }
    }
    long[] out = new long[(int) maxBin + 1];
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] != 0) {
        long k = offset + i;
        out[(int) (k >= 0 ? k : -k - 1)] += counts[i];
      }
    }
    return out;
  }

  void writeTo(DataOutput out) throws IOException {
    out.writeInt(counts.length);
    out.writeDouble(width);
    out.writeLong(offset);
    out.writeDouble(lo);
    out.writeDouble(hi);
    out.writeLong(total);
    for (long c : counts) {
      out.writeLong(c);
    }
  }

  static Histogram readFrom(DataInput in) throws IOException {
    Histogram h = new Histogram(in.readInt());
    h.width = in.readDouble();
    h.offset = in.readLong();
    h.lo = in.readDouble();
    h.hi = in.readDouble();
    h.total = in.readLong();
    for (int i = 0; i < h.counts.length; i++) {
      h.counts[i] = in.readLong();
    }
    return h;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Histogram h
        && Arrays.equals(counts, h.counts)
        && width == h.width
        && offset == h.offset
        && lo == h.lo
        && hi == h.hi
        && total == h.total;
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(counts) * 31 + Long.hashCode(offset);
  }
}

package io.quantguard.evaluate.task;

/**
 * Weighted counts of per-sample cosines on a fixed log-linear grid over d = 1 − cos, the distance
 * from agreement, with the exact lowest and highest cosine: a mergeable stand-in for the sorted
 * cosines, for percentiles on any number of rows.
 *
 * <p>Bin 0 holds exact agreement (d = 0); every power of two of d from 2<sup>−24</sup> (the
 * smallest distance a float cosine below 1 has) up to 2 is split into {@value #PER_OCTAVE} equal
 * bins. A value's bin comes from the exponent and the first six mantissa bits of d, which {@code 1
 * − (double) cos} gives exactly, so every machine puts a value in the same bin; counts are whole
 * numbers, so any split of the rows merged in any order gives the same histogram.
 *
 * <p>Precision: a value read back from its bin is the bin's middle, clamped to [lowest, highest],
 * so it lies within half a bin of the true value: within (1 − cos)/128 (0.8 % of the distance to 1;
 * 0.00008 at a cosine of 0.99). The lowest and highest positions read the exact extremes. A type-7
 * percentile interpolates between two such values, so it is within 1/128 of the distance to 1 of
 * the lower of them. NaN cosines sort above every number, as {@link Float#compare} has them.
 *
 * <p>Only the bins from the lowest to the highest one used are stored, whole octaves at a time: a
 * few hundred counters where the cosines span a few decades, at most {@value #BINS}.
 */
final class CosineHistogram implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  static final int PER_OCTAVE = 64;
  private static final int LOWEST_EXPONENT = -24;
  private static final int OCTAVES = 1 - LOWEST_EXPONENT + 1;
  static final int BINS = 1 + OCTAVES * PER_OCTAVE;

  /** The count of bin {@code from + i}. */
  private int[] counts = new int[0];

  private int from;
  private long total;
  private long nan;
  private float lowest = Float.NaN;
  private float highest = Float.NaN;

  /** Adds {@code w} (≥ 0) copies of {@code cos} (in [−1, 1], or NaN). */
  void add(float cos, long w) {
    if (w == 0) {
      return;
    }
    total += w;
    if (Float.isNaN(cos)) {
      nan += w;
      return;
    }
    if (!(cos >= lowest)) {
      lowest = cos;
    }
    if (!(cos <= highest)) {
      highest = cos;
    }
    int b = bin(cos);
    cover(b, b);
    int i = b - from;
    counts[i] = Math.toIntExact(counts[i] + w);
  }

  void merge(CosineHistogram o) {
    total += o.total;
    nan += o.nan;
    if (!(o.lowest >= lowest)) {
      lowest = o.lowest;
    }
    if (!(o.highest <= highest)) {
      highest = o.highest;
    }
    if (o.counts.length == 0) {
      return;
    }
    cover(o.from, o.from + o.counts.length - 1);
    for (int i = 0; i < o.counts.length; i++) {
      int at = o.from + i - from;
      counts[at] = Math.toIntExact((long) counts[at] + o.counts[i]);
    }
  }

  /** Grows the stored bins, in whole octaves, to include bins {@code lo..hi}. */
  private void cover(int lo, int hi) {
    int end = from + counts.length;
    if (counts.length > 0 && lo >= from && hi < end) {
      return;
    }
    int newFrom = counts.length == 0 ? lo : Math.min(from, lo);
    int newEnd = counts.length == 0 ? hi + 1 : Math.max(end, hi + 1);
    newFrom = newFrom / PER_OCTAVE * PER_OCTAVE;
    newEnd = Math.min(BINS, (newEnd + PER_OCTAVE - 1) / PER_OCTAVE * PER_OCTAVE);
    int[] grown = new int[newEnd - newFrom];
    if (counts.length > 0) {
      System.arraycopy(counts, 0, grown, from - newFrom, counts.length);
    }
    counts = grown;
    from = newFrom;
  }

  /** The bin of a cosine: 0 for exact agreement, else by the exponent and mantissa of 1 − cos. */
  static int bin(float cos) {
    double d = Math.min(2, 1 - (double) cos);
    if (d <= 0) {
      return 0;
    }
    int octave = Math.max(0, Math.getExponent(d) - LOWEST_EXPONENT);
    int sub = (int) (Double.doubleToRawLongBits(d) >>> (52 - 6)) & (PER_OCTAVE - 1);
    return 1 + octave * PER_OCTAVE + sub;
  }

  /** The cosine at the middle of a bin. */
  static double middle(int bin) {
    if (bin == 0) {
      return 1;
    }
    int octave = (bin - 1) / PER_OCTAVE;
    int sub = (bin - 1) % PER_OCTAVE;
    return 1 - Math.scalb(1 + (sub + 0.5) / PER_OCTAVE, octave + LOWEST_EXPONENT);
  }

  /** The summed weight, NaNs included. */
  long total() {
    return total;
  }

  /** The exact lowest cosine (NaN when there is none). */
  float lowest() {
    return lowest;
  }

  /** Type-7 percentile (p in [0, 1]) of the rows repeated by their weights; NaN when empty. */
  double percentile(double p) {
    if (total == 0) {
      return Double.NaN;
    }
    double h = (total - 1) * p;
    long lo = (long) Math.floor(h);
    long hi = Math.min(total - 1, lo + 1);
    double a = at(lo);
    return a + (h - lo) * (at(hi) - a);
  }

  /** The value at a position of the ascending order (lowest cosine at 0, NaNs last). */
  private double at(long position) {
    long numbers = total - nan;
    if (position >= numbers) {
      return Double.NaN;
    }
    if (position == 0) {
      return lowest;
    }
    if (position == numbers - 1) {
      return highest;
    }
    long seen = 0;
    for (int i = counts.length - 1; i >= 0; i--) {
      seen += counts[i];
      if (seen > position) {
        return Math.max(lowest, Math.min(highest, middle(from + i)));
      }
    }
    throw new IllegalStateException("the bins hold fewer rows than counted");
  }
}

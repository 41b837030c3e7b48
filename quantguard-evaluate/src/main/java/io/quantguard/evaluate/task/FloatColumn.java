package io.quantguard.evaluate.task;

import java.util.Arrays;

/** A growable column of floats, one per sample, kept so the bootstrap can resample. */
final class FloatColumn implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  private float[] values = new float[256];
  private int size;

  void add(double v) {
    if (size == values.length) {
      values = Arrays.copyOf(values, size * 2);
    }
    values[size++] = (float) v;
  }

  void addAll(FloatColumn other) {
    for (int i = 0; i < other.size; i++) {
      add(other.values[i]);
    }
  }

  /** The values in the given order of rows. */
  FloatColumn permuted(int[] order) {
    FloatColumn out = new FloatColumn();
    for (int i : order) {
      out.add(values[i]);
    }
    return out;
  }

  float get(int i) {
    return values[i];
  }

  int size() {
    return size;
  }

  double sum() {
    double s = 0;
    for (int i = 0; i < size; i++) {
      s += values[i];
    }
    return s;
  }

  /** Sorted copy of the values, for percentiles. */
  float[] sorted() {
    float[] s = Arrays.copyOf(values, size);
    Arrays.sort(s);
    return s;
  }

  /** Type-7 percentile (p in [0, 1]) of the values; NaN when empty. */
  double percentile(double p) {
    float[] s = sorted();
    if (s.length == 0) {
      return Double.NaN;
    }
    double h = (s.length - 1) * p;
    int lo = (int) Math.floor(h);
    int hi = Math.min(s.length - 1, lo + 1);
    return s[lo] + (h - lo) * (s[hi] - s[lo]);
  }
}

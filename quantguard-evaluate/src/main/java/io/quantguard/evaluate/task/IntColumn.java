package io.quantguard.evaluate.task;

import java.util.Arrays;

/** A growable column of ints, one per sample, kept so the bootstrap can resample. */
final class IntColumn implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  private int[] values = new int[256];
  private int size;

  void add(int v) {
    if (size == values.length) {
      values = Arrays.copyOf(values, size * 2);
    }
    values[size++] = v;
  }

  void addAll(IntColumn other) {
    for (int i = 0; i < other.size; i++) {
      add(other.values[i]);
    }
  }

  /** The values in the given order of rows. */
  IntColumn permuted(int[] order) {
    IntColumn out = new IntColumn();
    for (int i : order) {
      out.add(values[i]);
    }
    return out;
  }

  int get(int i) {
    return values[i];
  }

  int size() {
    return size;
  }
}

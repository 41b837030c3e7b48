package io.quantguard.evaluate.task;

import java.util.Arrays;

/** A growable column of bits (correct / not), 64 samples per long. */
final class BitColumn implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  private long[] words = new long[4];
  private int size;

  void add(boolean bit) {
    if (size == words.length * 64) {
      words = Arrays.copyOf(words, words.length * 2);
    }
    if (bit) {
      words[size >>> 6] |= 1L << (size & 63);
    }
    size++;
  }

  void addAll(BitColumn other) {
    for (int i = 0; i < other.size; i++) {
      add(other.get(i));
    }
  }

  /** The bits in the given order of rows. */
  BitColumn permuted(int[] order) {
    BitColumn out = new BitColumn();
    for (int i : order) {
      out.add(get(i));
    }
    return out;
  }

  boolean get(int i) {
    return (words[i >>> 6] & (1L << (i & 63))) != 0;
  }

  int size() {
    return size;
  }
}

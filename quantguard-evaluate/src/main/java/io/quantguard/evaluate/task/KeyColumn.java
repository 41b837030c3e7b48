package io.quantguard.evaluate.task;

import io.quantguard.evaluate.Bootstrap;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;

/**
 * The rows' keys ({@link io.quantguard.evaluate.Observation#key}), kept next to the other columns:
 * under {@link Bootstrap.Resampling#POISSON} the columns are read in key order and each row's
 * weights come from its key, so accumulators merged in any order give the same result.
 */
final class KeyColumn implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  private long[] values = new long[256];
  private int size;

  void add(long v) {
    if (size == values.length) {
      values = Arrays.copyOf(values, size * 2);
    }
    values[size++] = v;
  }

  void addAll(KeyColumn other) {
    for (int i = 0; i < other.size; i++) {
      add(other.values[i]);
    }
  }

  long get(int i) {
    return values[i];
  }

  int size() {
    return size;
  }

  /** The rows by ascending key (stable), or null when they already are in that order. */
  int @Nullable [] keyOrder() {
    boolean sorted = true;
    for (int i = 1; i < size && sorted; i++) {
      sorted = values[i - 1] <= values[i];
    }
    if (sorted) {
      return null;
    }
    return IntStream.range(0, size)
        .boxed()
        .sorted(Comparator.comparingLong(i -> values[i]))
        .mapToInt(Integer::intValue)
        .toArray();
  }

  KeyColumn permuted(int[] order) {
    KeyColumn out = new KeyColumn();
    for (int i : order) {
      out.add(values[i]);
    }
    return out;
  }
}

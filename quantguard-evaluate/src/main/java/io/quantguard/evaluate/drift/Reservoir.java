package io.quantguard.evaluate.drift;

import java.util.Arrays;

/**
 * A uniform sample of at most {@code capacity} values from a stream, by bottom-k sampling: the i-th
 * value added gets the pseudo-random priority h = SplitMix64(seed ⊕ i·φ ⊕ bits(x)), and the sample
 * is the {@code capacity} values with the smallest (h, bits(x)). Since the priorities do not depend
 * on the values' size, the kept values are a uniform sample without replacement (Cohen and Kaplan,
 * "Summarizing data using bottom-k sketches", PODC 2007).
 *
 * <p>Merging keeps the smallest priorities of both, which is exactly the bottom-k of the union: as
 * long as no more than {@code capacity} values were added in all, every value is kept and any split
 * of the data merges to the same sample; beyond that the merged sample is still uniform, but which
 * values it holds depends on how the stream was split. Mixing the value's bits into h keeps two
 * accumulators with the same seed from drawing identical priorities. Memory: two arrays of at most
 * {@code capacity}.
 */
final class Reservoir {
  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  private final int capacity;
  private final long seed;

  /** A max-heap on (priority, value bits): the root is the first to go. */
  private double[] values = new double[16];

  private long[] priorities = new long[16];
  private int size;
  private long seen;

  Reservoir(int capacity, long seed) {
    if (capacity < 1) {
      throw new IllegalArgumentException("a sample needs room for at least one value");
    }
    this.capacity = capacity;
    this.seed = seed;
  }

  int capacity() {
    return capacity;
  }

  /** Values added, here and in everything merged in. */
  long seen() {
    return seen;
  }

  int size() {
    return size;
  }

  void add(double x) {
    offer(x, priority(seed, seen, x));
    seen++;
  }

  void merge(Reservoir other) {
    for (int i = 0; i < other.size; i++) {
      offer(other.values[i], other.priorities[i]);
    }
    seen += other.seen;
  }

  /** The kept values in ascending order (a copy). */
  double[] sorted() {
    double[] s = Arrays.copyOf(values, size);
    Arrays.sort(s);
    return s;
  }

  /** The kept values and their priorities, in heap order, for persisting. */
  double[] values() {
    return Arrays.copyOf(values, size);
  }

  long[] priorities() {
    return Arrays.copyOf(priorities, size);
  }

  /** Restores a persisted sample: {@code values[i]} had priority {@code priorities[i]}. */
  static Reservoir restore(int capacity, long seed, long seen, double[] values, long[] priorities) {
    if (values.length != priorities.length || values.length > capacity || seen < values.length) {
      throw new IllegalArgumentException(
          "a persisted sample of "
              + values.length
              + " values with "
              + priorities.length
              + " priorities does not fit capacity "
              + capacity
              + " after "
              + seen
              + " values");
    }
    Reservoir r = new Reservoir(capacity, seed);
    for (int i = 0; i < values.length; i++) {
      r.offer(values[i], priorities[i]);
    }
    r.seen = seen;
    return r;
  }

  static long priority(long seed, long index, double x) {
    long z = seed ^ (index * GOLDEN) ^ Double.doubleToLongBits(x);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  private void offer(double x, long p) {
    if (size < capacity) {
      if (size == values.length) {
        int grown = Math.min(capacity, size * 2);
        values = Arrays.copyOf(values, grown);
        priorities = Arrays.copyOf(priorities, grown);
      }
      int i = size++;
      values[i] = x;
      priorities[i] = p;
      siftUp(i);
    } else if (before(p, x, priorities[0], values[0])) {
      values[0] = x;
      priorities[0] = p;
      siftDown(0);
    }
  }

  /** Whether (p, x) is kept before (q, y): smaller priority, ties broken by the value's bits. */
  private static boolean before(long p, double x, long q, double y) {
    return p != q ? p < q : Double.doubleToLongBits(x) < Double.doubleToLongBits(y);
  }

  private void siftUp(int i) {
    while (i > 0) {
      int parent = (i - 1) / 2;
      if (!before(priorities[parent], values[parent], priorities[i], values[i])) {
        return;
      }
      swap(i, parent);
      i = parent;
    }
  }

  private void siftDown(int i) {
    while (true) {
      int largest = i;
      for (int c = 2 * i + 1; c <= 2 * i + 2 && c < size; c++) {
        if (before(priorities[largest], values[largest], priorities[c], values[c])) {
          largest = c;
        }
      }
      if (largest == i) {
        return;
      }
      swap(i, largest);
      i = largest;
    }
  }

  private void swap(int a, int b) {
    double v = values[a];
    values[a] = values[b];
    values[b] = v;
    long p = priorities[a];
    priorities[a] = priorities[b];
    priorities[b] = p;
  }
}

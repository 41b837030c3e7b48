package io.quantguard.runtime.data;

import java.util.OptionalLong;

/**
 * Representative data for a model: calibration samples, evaluation samples, benchmark inputs. A
 * source is re-readable (every {@link #open} starts at the first sample, in the same order) and
 * streams, so its size is bounded by the disk, not the heap.
 */
public interface DataSource {
  /** How the user named it (the data spec), for messages and reports. */
  String name();

  /** Reads batches of at most {@code batchSize} samples. */
  BatchStream open(int batchSize);

  /** Number of samples, when known without reading everything. */
  OptionalLong size();

  /** Whether batches carry labels. */
  boolean hasLabels();

  /** The first {@code n} samples of this source (all of them when it has fewer). */
  default DataSource head(int n) {
    if (n < 0) {
      throw new IllegalArgumentException("a sample count must not be negative, got " + n);
    }
    return new DataSpec.Checked(this, 0, n);
  }

  /**
   * Batches made in memory (a test's samples, a partition of a distributed job) as a source: each
   * {@link #open} iterates {@code batches} again, joins or splits them into batches of the size
   * asked for (sample order kept, offsets counted from the first sample) and rejects NaN and
   * infinity as file sources do. {@code batches} must be re-iterable and agree on inputs, types and
   * shapes past the first axis, and either all carry labels or none.
   *
   * @param name how messages and reports name the data
   */
  static DataSource of(String name, Iterable<Batch> batches) {
    return new DataSpec.Checked(new IterableSource(name, batches), 0, -1);
  }
}

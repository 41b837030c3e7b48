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
}

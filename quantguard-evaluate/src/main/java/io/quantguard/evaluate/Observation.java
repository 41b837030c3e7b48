package io.quantguard.evaluate;

import io.quantguard.runtime.data.Batch;
import org.jspecify.annotations.Nullable;

/**
 * One batch as seen by one model and by the baseline, restricted to some of its rows (a slice).
 * When the model is the baseline itself, {@code model == baseline}.
 *
 * @param dataset the name of the data set the batch came from
 * @param rows the batch rows that belong to the slice being scored, in increasing order
 */
public record Observation<P>(String dataset, Batch batch, P baseline, P model, int[] rows) {

  /** The label of batch row {@code row}, or -1 when the batch has none. */
  public long label(int row) {
    long[] labels = batch.labels();
    return labels != null ? labels[row] : -1;
  }

  /**
   * The key of batch row {@code row} for partition-stable resampling: its index in its data set
   * ({@link Batch#offset()} + row), with a hash of the data set's name in the upper 24 bits so that
   * rows of different data sets do not share keys.
   */
  public long key(int row) {
    return ((long) dataset.hashCode() << 40) ^ (batch.offset() + row);
  }

  /** A per-sample attribute of batch row {@code row}, or null. */
  public @Nullable String attribute(int row, String key) {
    return batch.attributes().isEmpty() ? null : batch.attributes().get(row).get(key);
  }
}

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

  /** A per-sample attribute of batch row {@code row}, or null. */
  public @Nullable String attribute(int row, String key) {
    return batch.attributes().isEmpty() ? null : batch.attributes().get(row).get(key);
  }
}

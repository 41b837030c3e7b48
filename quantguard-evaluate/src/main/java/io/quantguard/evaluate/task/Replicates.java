package io.quantguard.evaluate.task;

import io.quantguard.evaluate.Bootstrap;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;

/**
 * Where a metric's bootstrap lives, decided once for every metric that keeps mergeable counts per
 * replicate: under Poisson resampling the replicates are summed as rows arrive and no row is kept;
 * under multinomial resampling the rows are kept and drawn when the result is asked for; with no
 * resamples nothing is kept. A null bootstrap means any may be asked for, so rows are kept.
 */
final class Replicates {
  private Replicates() {}

  /** Whether replicate counts are summed as the rows arrive. */
  static boolean streamed(@Nullable Bootstrap bootstrap) {
    return bootstrap != null && bootstrap.keyed() && bootstrap.resamples() > 0;
  }

  /** Whether the rows themselves must be kept for the bootstrap. */
  static boolean rowsKept(@Nullable Bootstrap bootstrap) {
    return bootstrap == null || (!streamed(bootstrap) && bootstrap.resamples() > 0);
  }

  /**
   * Merges {@code theirs} into {@code ours} replicate by replicate, after checking that both were
   * drawn for the same bootstrap.
   */
  static <T> void merge(
      T @Nullable [] ours,
      boolean ourRowsKept,
      T @Nullable [] theirs,
      boolean theirRowsKept,
      BiConsumer<T, T> merge) {
    if ((ours == null) != (theirs == null)
        || ourRowsKept != theirRowsKept
        || (ours != null && theirs != null && ours.length != theirs.length)) {
      throw new IllegalArgumentException("cannot merge metrics drawn for different bootstraps");
    }
    if (ours != null && theirs != null) {
      for (int r = 0; r < ours.length; r++) {
        merge.accept(ours[r], theirs[r]);
      }
    }
  }
}

package io.quantguard.evaluate;

import io.quantguard.report.MetricSpec;
import java.util.List;

/**
 * The few values per sample a task keeps (correctness, predicted class, cosine, ...) so that the
 * {@link Bootstrap} can recompute its headline metrics on resampled data. Baseline and model values
 * sit in the same row, which makes every resample paired: the difference {@code model − baseline}
 * is computed on the same resampled samples.
 */
public interface SampleTable {
  /** Number of samples (rows). */
  int size();

  /** The headline metrics, in the order {@link #evaluate} fills them. */
  List<MetricSpec> metrics();

  /**
   * Computes every metric on the multiset that holds row i {@code weights[i]} times (all ones: the
   * data as it is; a resample: multinomial counts summing to {@link #size}). Fills the model's
   * values and the baseline's (ignored for metrics that compare with the baseline); NaN where a
   * metric is undefined on that multiset.
   */
  void evaluate(int[] weights, double[] model, double[] baseline);

  /**
   * Row i's key, which seeds its weights under {@link Bootstrap.Resampling#POISSON} (a sample's
   * index in its data set, whichever machine scored it); by default its position.
   */
  default long key(int row) {
    return row;
  }
}

package io.quantguard.evaluate;

import io.quantguard.report.TaskResult;

/**
 * A mergeable accumulator of one model's metrics against labels and against the baseline. Work
 * split over threads or processes merges to the same answer: {@code a.add(x); a.add(y)} and {@code
 * a.add(x); b.add(y); a.merge(b)} give the same {@link #result}. Memory is bounded by the sketch (a
 * confusion matrix, histogram bins) plus, for the bootstrap, either a few bytes per sample that it
 * resamples or, where the task sums each Poisson replicate as rows arrive ({@link
 * Task#newMetrics(Bootstrap)}), a fixed state per replicate.
 */
public interface PairedMetrics<P> {
  void add(Observation<P> observation);

  /** Folds in another accumulator of the same task (it must have seen later samples). */
  void merge(PairedMetrics<P> other);

  /** Number of samples added. */
  long samples();

  /** The metrics, with bootstrap confidence intervals drawn as {@code bootstrap} says. */
  TaskResult result(Bootstrap bootstrap);
}

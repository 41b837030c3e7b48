package io.quantguard.report;

import org.jspecify.annotations.Nullable;

/**
 * Precision, recall and F1 of one class.
 *
 * @param support samples whose actual class this is
 * @param f1Delta this model's F1 minus the baseline's on the same samples (null for the baseline)
 */
public record ClassScores(
    int index,
    String name,
    double precision,
    double recall,
    double f1,
    long support,
    @Nullable Double f1Delta) {
  /** The same scores with {@code f1Delta} = this F1 − the baseline's F1. */
  public ClassScores withF1DeltaOf(double baselineF1) {
    return new ClassScores(index, name, precision, recall, f1, support, f1 - baselineF1);
  }
}

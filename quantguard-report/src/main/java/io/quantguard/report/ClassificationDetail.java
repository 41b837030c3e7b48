package io.quantguard.report;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The classification-specific part of a result.
 *
 * @param classes class names by index
 * @param perClass per-class precision, recall and F1 of the model against the labels, with the F1
 *     difference to the baseline
 * @param averages macro, micro and weighted averages
 * @param confusion rows = actual class, columns = predicted class
 * @param confusionDelta this model's confusion minus the baseline's on the same samples
 * @param flipped samples whose predicted class differs from the baseline's
 * @param flips which baseline class flipped to which, most frequent first
 * @param mcnemar the paired accuracy test against the baseline (null without labels)
 * @param calibration reliability diagram bins behind the ECE
 */
public record ClassificationDetail(
    List<String> classes,
    List<ClassScores> perClass,
    @Nullable ClassAverages averages,
    long @Nullable [][] confusion,
    long @Nullable [][] confusionDelta,
    long flipped,
    List<Flip> flips,
    @Nullable McNemarTest mcnemar,
    List<ReliabilityBin> calibration) {

  /** {@code count} samples the baseline put in class {@code from} and the model in {@code to}. */
  public record Flip(String from, String to, long count) {}
}

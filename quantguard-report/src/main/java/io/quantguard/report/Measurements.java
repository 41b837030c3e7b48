package io.quantguard.report;

import java.util.List;
import java.util.Optional;

/**
 * What a {@link Policy} judges: numbers measured for one or more candidates against one baseline,
 * on all samples and per slice. An offline evaluation report is one source ({@link
 * EvaluationReport#measurements()}); a canary's live window is another, whose paired request
 * counts, flip rate, cosine, latency ratio, error rate and drift scores come from mergeable
 * accumulators. Both are judged by the same code, so a policy means the same thing in CI, during a
 * canary and in production.
 *
 * <p>An implementation answers {@link #find} for every metric it lists in {@link #metrics()}; a
 * slice may lack a metric (then its rules are skipped there).
 */
public interface Measurements {

  /**
   * What the numbers are, as messages name them ({@code the report}, {@code the canary window}).
   */
  String source();

  /** The task the numbers measure ({@code classification}, ...), named in verdicts and errors. */
  String task();

  /** The candidates that can be judged, in order. */
  List<String> candidates();

  /**
   * A candidate's slices with their sample counts; the first is {@code all} (every sample). A
   * window with too few samples on a slice gets its rules skipped there ({@code min_samples}).
   */
  List<Slice> slices(String candidate);

  /** The candidate's {@code metric} on {@code slice} against the baseline, if it was measured. */
  Optional<Measure> find(String candidate, String slice, String metric);

  /** The metric names a policy may use here, for messages that list them. */
  List<String> metrics();

  /**
   * One slice of the samples.
   *
   * @param name {@code all}, or {@code key=value} ({@code label=3}, {@code data=night})
   * @param samples samples (or paired requests) measured on it
   */
  record Slice(String name, long samples) {}
}

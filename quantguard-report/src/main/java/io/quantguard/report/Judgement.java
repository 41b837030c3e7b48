package io.quantguard.report;

import java.util.List;

/**
 * A {@link Policy} judged against one set of {@link Measurements} (an evaluation report, a canary
 * window): every check of every judged candidate, in policy order, so a gate, a tuner or a monitor
 * can act on the same verdicts.
 *
 * @param policy the policy's name
 * @param task the measured task's name
 * @param candidates the candidates judged, in measurement order
 * @param verdicts per candidate, per rule, per slice
 * @param warnings limits that look written in the wrong unit (they are judged as written)
 */
public record Judgement(
    String policy,
    String task,
    List<String> candidates,
    List<RuleVerdict> verdicts,
    List<String> warnings) {
  public Judgement {
    candidates = List.copyOf(candidates);
    verdicts = List.copyOf(verdicts);
    warnings = List.copyOf(warnings);
  }

  /** True when no check failed for any candidate. */
  public boolean passed() {
    return verdicts.stream().noneMatch(RuleVerdict::failed);
  }

  public boolean passed(String candidate) {
    return verdicts(candidate).stream().noneMatch(RuleVerdict::failed);
  }

  public List<RuleVerdict> verdicts(String candidate) {
    return verdicts.stream().filter(v -> v.candidate().equals(candidate)).toList();
  }

  public List<RuleVerdict> failures() {
    return verdicts.stream().filter(RuleVerdict::failed).toList();
  }
}

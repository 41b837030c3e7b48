package io.quantguard.report;

import io.quantguard.onnx.InvalidInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * One declarative list of limits on what an evaluation measures, judged the same way wherever a
 * model is judged: as a CI gate on {@code report.json}, as the goal of a tuning search, and against
 * live canary and production numbers (any {@link Measurements}). Written in YAML (grammar in {@code
 * quantguard-report/REPORT.md}):
 *
 * <pre>{@code
 * name: strict
 * rules:
 *   accuracy: {max_drop: 0.5%}
 *   macro_f1: {max_drop_relative: 1%, per_slice: true}
 *   flip_rate: {max: 2%}
 *   latency_p95: {max_ratio: 0.7}
 *   size: {max_ratio: 0.3}
 * }</pre>
 *
 * <p>A rule on a metric that was not measured is an error (never a silent pass), and so is a limit
 * the metric cannot answer (a drop of a metric that is itself a comparison with the baseline, a
 * worst bound of a number without interval).
 *
 * @param name {@code name:} from the file, else the file name
 * @param source where the policy came from (a path), named in error messages
 */
public record Policy(String name, String source, List<Rule> rules) {
  /**
   * A bound this close to the limit still holds: differences of report fractions carry rounding
   * error (0.9304 − 0.9254 is not exactly 0.005 in binary).
   */
  private static final double TOLERANCE = 1e-12;

  public Policy {
    rules = List.copyOf(rules);
  }

  public static Policy read(Path file) {
    return parse(text(file), file.toString());
  }

  /**
   * A policy file's text as it is (UTF-8), for whoever keeps or hashes the text itself (the
   * registry names a policy by the SHA-256 of its text).
   */
  public static String text(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new InvalidInputException(
          file.toString(), "cannot be read: " + e.getMessage(), "check the path", e);
    }
  }

  /** Parses a policy's YAML (or JSON); {@code source} names it in errors. */
  public static Policy parse(String text, String source) {
    return PolicyParser.parse(text, source);
  }

  /** Judges every candidate of the report. */
  public Judgement judge(EvaluationReport report) {
    return judge(report.measurements(), List.of());
  }

  /** Judges every candidate. */
  public Judgement judge(Measurements measured) {
    return judge(measured, List.of());
  }

  /**
   * Judges the named candidates (all when {@code only} is empty).
   *
   * @throws InvalidInputException when a candidate or a rule's metric was not measured, or a rule
   *     cannot be judged on it; the message names the rule and lists what was measured
   */
  public Judgement judge(Measurements measured, List<String> only) {
    List<String> candidates = measured.candidates();
    if (candidates.isEmpty()) {
      throw new InvalidInputException(
          measured.source(),
          "has no candidate to judge",
          "measure at least one candidate against the baseline");
    }
    List<String> judged = new ArrayList<>();
    if (only.isEmpty()) {
      judged.addAll(candidates);
    } else {
      for (String n : new LinkedHashSet<>(only)) {
        if (!candidates.contains(n)) {
          throw new InvalidInputException(
              "candidate '" + n + "'",
              "is not a candidate in " + measured.source(),
              "candidates: " + String.join(", ", candidates));
        }
        judged.add(n);
      }
    }
    for (Rule rule : rules) {
      Optional<Measure> onAll = measured.find(judged.get(0), "all", rule.metric());
      if (onAll.isEmpty()) {
        throw new InvalidInputException(
            source,
            "rule '"
                + rule.describe()
                + "': "
                + measured.source()
                + " has no metric '"
                + rule.metric()
                + "' (task "
                + measured.task()
                + ")",
            "metrics in " + measured.source() + ": " + String.join(", ", measured.metrics()));
      }
      if (rule.perSlice() && onAll.get().source() == Measure.Source.COST) {
        throw new InvalidInputException(
            source,
            "rule '"
                + rule.describe()
                + "': "
                + rule.metric()
                + " is measured per model, not per slice",
            "drop per_slice from this rule");
      }
    }
    List<RuleVerdict> verdicts = new ArrayList<>();
    for (String c : judged) {
      for (Rule rule : rules) {
        verdicts.addAll(judge(rule, c, measured));
      }
    }
    return new Judgement(name, measured.task(), judged, verdicts, warnings(judged, measured));
  }

  private List<RuleVerdict> judge(Rule rule, String candidate, Measurements measured) {
    List<Measurements.Slice> all = measured.slices(candidate);
    List<Measurements.Slice> slices = rule.perSlice() ? all : all.subList(0, 1);
    List<RuleVerdict> out = new ArrayList<>();
    for (Measurements.Slice s : slices) {
      String slice = s.name();
      boolean isAll = slice.equals("all");
      if (!isAll && s.samples() < rule.minSamples()) {
        out.add(
            skipped(
                rule,
                candidate,
                s,
                s.samples() + " samples, fewer than min_samples " + rule.minSamples()));
        continue;
      }
      Optional<Measure> found = measured.find(candidate, slice, rule.metric());
      if (found.isEmpty()) {
        out.add(skipped(rule, candidate, s, "the slice has no " + rule.metric()));
        continue;
      }
      Measure m = found.get();
      Double q;
      try {
        q = m.quantity(rule.limit(), rule.use());
      } catch (IllegalArgumentException e) {
        throw new InvalidInputException(
            source, "rule '" + rule.describe() + "': " + e.getMessage(), "change the rule", e);
      }
      if (q == null && isAll && rule.use() == Rule.Use.WORST_BOUND) {
        throw new InvalidInputException(
            source,
            "rule '"
                + rule.describe()
                + "': "
                + measured.source()
                + " has no confidence interval for "
                + rule.metric()
                + " (measured without bootstrap resamples?)",
            "use: estimate, or measure with bootstrap resamples (e.g. 1000)");
      }
      if (q == null || q.isNaN()) {
        out.add(
            new RuleVerdict(
                candidate,
                rule,
                slice,
                s.samples(),
                RuleVerdict.Outcome.FAIL,
                m.value(),
                m.baseline(),
                null,
                null,
                "there is no number for it (null), so the limit cannot be shown to hold"));
        continue;
      }
      double margin = rule.limit().margin(q);
      boolean holds = margin >= -TOLERANCE * Math.max(1, Math.abs(rule.limit().threshold()));
      out.add(
          new RuleVerdict(
              candidate,
              rule,
              slice,
              s.samples(),
              holds ? RuleVerdict.Outcome.PASS : RuleVerdict.Outcome.FAIL,
              m.value(),
              m.baseline(),
              q,
              margin,
              ""));
    }
    return out;
  }

  private static RuleVerdict skipped(
      Rule rule, String candidate, Measurements.Slice s, String note) {
    return new RuleVerdict(
        candidate,
        rule,
        s.name(),
        s.samples(),
        RuleVerdict.Outcome.SKIPPED,
        null,
        null,
        null,
        null,
        note);
  }

  /**
   * Limits that are almost certainly written in the wrong unit: an absolute drop of a fraction
   * (accuracy, F1) of 10 points or more, as {@code max_drop: 0.5} meant as half a point would be;
   * and {@code per_slice} rules on a report without slices, which can only be judged on all data.
   */
  private List<String> warnings(List<String> judged, Measurements measured) {
    List<String> out = new ArrayList<>();
    for (Rule rule : rules) {
      if (rule.perSlice() && judged.stream().allMatch(c -> measured.slices(c).size() <= 1)) {
        out.add(
            String.format(
                Locale.ROOT,
                "rule '%s' is per slice, but %s has no slices (measured without slicing): it was"
                    + " judged on all data only",
                rule.describe(),
                measured.source()));
      }
    }
    for (Rule rule : rules) {
      if (rule.limit().kind() != Limit.Kind.MAX_DROP || rule.limit().threshold() < 0.1) {
        continue;
      }
      Optional<Measure> m = measured.find(judged.get(0), "all", rule.metric());
      if (m.isPresent()
          && m.get().source() == Measure.Source.METRIC
          && m.get().baseline() != null
          && m.get().baseline() >= 0
          && m.get().baseline() <= 1) {
        out.add(
            String.format(
                Locale.ROOT,
                "rule '%s' allows a drop of %s points: %s is a fraction (write max_drop: 0.005 or"
                    + " 0.5%% for half a point)",
                rule.describe(),
                Format.num(rule.limit().threshold() * 100),
                rule.metric()));
      }
    }
    return out;
  }
}

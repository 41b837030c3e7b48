package io.quantguard.evaluate;

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
 * model is judged: as a CI gate on {@code report.json}, as the goal of a tuning search, and later
 * against live canary and production numbers. Written in YAML (grammar in {@code
 * quantguard-evaluate/REPORT.md}):
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
 * <p>A rule on a metric the report does not carry is an error (never a silent pass), and so is a
 * limit the metric cannot answer (a drop of a metric that is itself a comparison with the baseline,
 * a worst bound of a number without interval).
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
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new InvalidInputException(
          file.toString(), "cannot be read: " + e.getMessage(), "check the path", e);
    }
    return parse(text, file.toString());
  }

  /** Parses a policy's YAML (or JSON); {@code source} names it in errors. */
  public static Policy parse(String text, String source) {
    return PolicyParser.parse(text, source);
  }

  /** Judges every candidate of the report. */
  public Judgement judge(EvaluationReport report) {
    return judge(report, List.of());
  }

  /**
   * Judges the named candidates (all when {@code only} is empty).
   *
   * @throws InvalidInputException when a candidate or a rule's metric is not in the report, or a
   *     rule cannot be judged on it; the message names the rule and lists what the report has
   */
  public Judgement judge(EvaluationReport report, List<String> only) {
    List<EvaluationReport.ModelReport> candidates = report.candidates();
    if (candidates.isEmpty()) {
      throw new InvalidInputException(
          "the report", "has no candidate to judge", "evaluate with at least one --candidate");
    }
    List<String> names = candidates.stream().map(EvaluationReport.ModelReport::name).toList();
    List<EvaluationReport.ModelReport> judged = new ArrayList<>();
    if (only.isEmpty()) {
      judged.addAll(candidates);
    } else {
      for (String n : new LinkedHashSet<>(only)) {
        judged.add(
            candidates.stream()
                .filter(c -> c.name().equals(n))
                .findFirst()
                .orElseThrow(
                    () ->
                        new InvalidInputException(
                            "--candidate " + n,
                            "is not a candidate in the report",
                            "candidates: " + String.join(", ", names))));
      }
    }
    EvaluationReport.ModelReport baseline = report.baseline();
    for (Rule rule : rules) {
      if (Measures.find(judged.get(0), baseline, "all", rule.metric()).isEmpty()) {
        throw new InvalidInputException(
            source,
            "rule '"
                + rule.describe()
                + "': the report has no metric '"
                + rule.metric()
                + "' (task "
                + report.task().name()
                + ")",
            "metrics in this report: " + String.join(", ", Measures.available(report)));
      }
      if (rule.perSlice() && Measures.isCost(rule.metric())) {
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
    for (EvaluationReport.ModelReport c : judged) {
      for (Rule rule : rules) {
        verdicts.addAll(judge(rule, c, baseline));
      }
    }
    return new Judgement(
        name,
        report.task().name(),
        judged.stream().map(EvaluationReport.ModelReport::name).toList(),
        verdicts,
        warnings(judged, baseline));
  }

  private List<RuleVerdict> judge(
      Rule rule, EvaluationReport.ModelReport candidate, EvaluationReport.ModelReport baseline) {
    List<EvaluationReport.SliceResult> slices =
        rule.perSlice() ? candidate.slices() : List.of(candidate.all());
    List<RuleVerdict> out = new ArrayList<>();
    for (EvaluationReport.SliceResult s : slices) {
      String slice = s.slice();
      boolean all = slice.equals("all");
      if (!all && s.samples() < rule.minSamples()) {
        out.add(
            skipped(
                rule,
                candidate,
                s,
                s.samples() + " samples, fewer than min_samples " + rule.minSamples()));
        continue;
      }
      Optional<Measure> found = Measures.find(candidate, baseline, slice, rule.metric());
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
      long samples = Measures.isCost(rule.metric()) ? candidate.all().samples() : s.samples();
      if (q == null && all && rule.use() == Rule.Use.WORST_BOUND) {
        throw new InvalidInputException(
            source,
            "rule '"
                + rule.describe()
                + "': the report has no confidence interval for "
                + rule.metric()
                + " (evaluated with --bootstrap 0?)",
            "use: estimate, or evaluate with --bootstrap 1000");
      }
      if (q == null || q.isNaN()) {
        out.add(
            new RuleVerdict(
                candidate.name(),
                rule,
                slice,
                samples,
                RuleVerdict.Outcome.FAIL,
                m.value(),
                m.baseline(),
                null,
                null,
                "the report has no number for it (null), so the limit cannot be shown to hold"));
        continue;
      }
      double margin = rule.limit().margin(q);
      boolean holds = margin >= -TOLERANCE * Math.max(1, Math.abs(rule.limit().threshold()));
      out.add(
          new RuleVerdict(
              candidate.name(),
              rule,
              slice,
              samples,
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
      Rule rule,
      EvaluationReport.ModelReport candidate,
      EvaluationReport.SliceResult s,
      String note) {
    return new RuleVerdict(
        candidate.name(),
        rule,
        s.slice(),
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
  private List<String> warnings(
      List<EvaluationReport.ModelReport> judged, EvaluationReport.ModelReport baseline) {
    List<String> out = new ArrayList<>();
    for (Rule rule : rules) {
      if (rule.perSlice() && judged.stream().allMatch(c -> c.slices().size() <= 1)) {
        out.add(
            String.format(
                Locale.ROOT,
                "rule '%s' is per slice, but the report has no slices (evaluated without"
                    + " --slice-by): it was judged on all data only",
                rule.describe()));
      }
    }
    for (Rule rule : rules) {
      if (rule.limit().kind() != Limit.Kind.MAX_DROP || rule.limit().threshold() < 0.1) {
        continue;
      }
      Optional<Measure> m = Measures.find(judged.get(0), baseline, "all", rule.metric());
      if (m.isPresent()
          && m.get().source() == Measure.Source.METRIC
          && m.get().baseline() != null
          && m.get().baseline() >= 0
          && m.get().baseline() <= 1) {
        out.add(
            String.format(
                Locale.ROOT,
                "rule '%s' allows a drop of %s points: %s is a fraction in the report (write"
                    + " max_drop: 0.005 or 0.5%% for half a point)",
                rule.describe(),
                Format.num(rule.limit().threshold() * 100),
                rule.metric()));
      }
    }
    return out;
  }
}

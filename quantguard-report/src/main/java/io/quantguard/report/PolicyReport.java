package io.quantguard.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A {@link Judgement} for people and machines: a terminal table, a Markdown summary for the pull
 * request, JSON (the {@code policy} object of {@code report.json}; see {@code REPORT.md}), and the
 * evaluation reports with the verdicts included. Every rule of every candidate gets a row; a
 * per-slice rule shows its failing slices, or when none fails its tightest one, so the summary
 * stays short however many slices there are (JSON and JUnit XML keep every check).
 */
public final class PolicyReport {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private PolicyReport() {}

  /** The verdicts as the {@code policy} object of {@code report.json}. */
  public static ObjectNode jsonTree(Judgement j) {
    ObjectNode root = JSON.createObjectNode();
    root.put("policy", j.policy());
    root.put("task", j.task());
    root.put("passed", j.passed());
    ArrayNode candidates = root.putArray("candidates");
    for (String c : j.candidates()) {
      List<RuleVerdict> vs = j.verdicts(c);
      ObjectNode n = candidates.addObject();
      n.put("name", c);
      n.put("passed", j.passed(c));
      n.put("checks", vs.size());
      n.put("failed", count(vs, RuleVerdict.Outcome.FAIL));
      n.put("skipped", count(vs, RuleVerdict.Outcome.SKIPPED));
    }
    ArrayNode verdicts = root.putArray("verdicts");
    for (RuleVerdict v : j.verdicts()) {
      ObjectNode n = verdicts.addObject();
      n.put("candidate", v.candidate());
      n.put("rule", v.rule().describe());
      n.put("metric", v.rule().metric());
      n.put("limit", v.rule().limit().key());
      n.put("threshold", v.rule().limit().threshold());
      n.put("use", v.rule().use().key());
      n.put("perSlice", v.rule().perSlice());
      n.put("slice", v.slice());
      n.put("samples", v.samples());
      n.put("outcome", v.outcome().key());
      n.put("value", finite(v.value()));
      n.put("baseline", finite(v.baseline()));
      n.put("measured", finite(v.measured()));
      n.put("margin", finite(v.margin()));
      n.put("message", v.message());
    }
    ArrayNode warnings = root.putArray("warnings");
    j.warnings().forEach(warnings::add);
    return root;
  }

  public static String json(Judgement j) {
    return write(jsonTree(j));
  }

  /** {@code report.json} with the verdicts as its {@code policy} field. */
  public static String reportJson(EvaluationReport report, Judgement j) {
    try {
      ObjectNode tree = (ObjectNode) JSON.readTree(ReportWriter.json(report));
      tree.set("policy", jsonTree(j));
      return write(tree);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot add the policy to the report", e);
    }
  }

  /**
   * Writes report.json (with the {@code policy} field), report.md (with the verdicts after the
   * introduction) and report.html into {@code dir}, each atomically.
   */
  public static List<Path> write(EvaluationReport report, Judgement j, Path dir) {
    String json = reportJson(report, j);
    String md = MarkdownReport.render(report);
    String section = markdown(j, 3);
    int at = md.indexOf("\n### ");
    md = at < 0 ? md + "\n" + section : md.substring(0, at + 1) + section + md.substring(at + 1);
    return List.of(
        AtomicFile.write(dir.resolve("report.json"), json),
        AtomicFile.write(dir.resolve("report.md"), md),
        AtomicFile.write(dir.resolve("report.html"), HtmlReport.render(report, json)));
  }

  /** Writes the Markdown summary to {@code file} atomically. */
  public static Path writeMarkdown(Judgement j, Path file) {
    return AtomicFile.write(file, markdown(j));
  }

  /** The pull-request summary. */
  public static String markdown(Judgement j) {
    return markdown(j, 2);
  }

  private static String markdown(Judgement j, int level) {
    String h = "#".repeat(level);
    StringBuilder b = new StringBuilder();
    long failedCandidates = j.candidates().stream().filter(c -> !j.passed(c)).count();
    b.append(h)
        .append(' ')
        .append(j.passed() ? "✅" : "❌")
        .append(" Policy ")
        .append(j.policy())
        .append(": ")
        .append(j.passed() ? "passed" : "failed")
        .append("\n\n");
    b.append(
        String.format(
            Locale.ROOT,
            "%d of %d candidate%s of the %s evaluation failed.%n%n",
            failedCandidates,
            j.candidates().size(),
            j.candidates().size() == 1 ? "" : "s",
            j.task()));
    b.append("| candidate | result | checks | failed | skipped |\n|---|---|---|---|---|\n");
    for (String c : j.candidates()) {
      List<RuleVerdict> vs = j.verdicts(c);
      b.append("| ")
          .append(cell(c))
          .append(" | ")
          .append(j.passed(c) ? "✅ passed" : "❌ failed")
          .append(" | ")
          .append(vs.size())
          .append(" | ")
          .append(count(vs, RuleVerdict.Outcome.FAIL))
          .append(" | ")
          .append(count(vs, RuleVerdict.Outcome.SKIPPED))
          .append(" |\n");
    }
    b.append('\n');
    for (String c : j.candidates()) {
      b.append(h).append("# ").append(j.passed(c) ? "✅ " : "❌ ").append(c).append("\n\n");
      b.append("| rule | slice | measured | limit | margin | result |\n");
      b.append("|---|---|---|---|---|---|\n");
      for (Row r : rows(j, c)) {
        b.append("| ")
            .append(cell(r.rule()))
            .append(" | ")
            .append(cell(r.slice()))
            .append(" | ")
            .append(cell(r.measured()))
            .append(" | ")
            .append(cell(r.limit()))
            .append(" | ")
            .append(cell(r.margin()))
            .append(" | ")
            .append(
                switch (r.outcome()) {
                  case PASS -> "✅ pass";
                  case FAIL -> "❌ **fail**";
                  case SKIPPED -> "⏭ skipped";
                })
            .append(" |\n");
      }
      b.append('\n');
    }
    if (!j.warnings().isEmpty()) {
      b.append("**Warnings**\n\n");
      j.warnings().forEach(w -> b.append("- ").append(cell(w)).append('\n'));
      b.append('\n');
    }
    return b.toString();
  }

  /** A fixed-width table for terminals. */
  public static String text(Judgement j) {
    StringBuilder b = new StringBuilder();
    b.append("Policy ")
        .append(j.policy())
        .append(": ")
        .append(j.passed() ? "PASSED" : "FAILED")
        .append(" (")
        .append(j.task())
        .append(" evaluation, ")
        .append(j.candidates().size())
        .append(j.candidates().size() == 1 ? " candidate)" : " candidates)")
        .append("\n");
    for (String c : j.candidates()) {
      List<RuleVerdict> vs = j.verdicts(c);
      b.append('\n')
          .append(c)
          .append(": ")
          .append(j.passed(c) ? "passed" : "FAILED")
          .append(" (")
          .append(vs.size())
          .append(" checks, ")
          .append(count(vs, RuleVerdict.Outcome.FAIL))
          .append(" failed, ")
          .append(count(vs, RuleVerdict.Outcome.SKIPPED))
          .append(" skipped)\n");
      List<List<String>> cells = new ArrayList<>();
      cells.add(List.of("rule", "slice", "measured", "limit", "margin", "result"));
      for (Row r : rows(j, c)) {
        cells.add(
            List.of(
                r.rule(),
                r.slice(),
                r.measured(),
                r.limit(),
                r.margin(),
                r.outcome() == RuleVerdict.Outcome.FAIL ? "FAIL" : r.outcome().key()));
      }
      int[] width = new int[6];
      for (List<String> row : cells) {
        for (int i = 0; i < 6; i++) {
          width[i] = Math.max(width[i], row.get(i).length());
        }
      }
      for (List<String> row : cells) {
        StringBuilder line = new StringBuilder("  ");
        for (int i = 0; i < 6; i++) {
          line.append(row.get(i)).append(" ".repeat(width[i] - row.get(i).length() + 2));
        }
        b.append(line.toString().stripTrailing()).append('\n');
      }
    }
    j.warnings().forEach(w -> b.append("warning: ").append(w).append('\n'));
    return b.toString();
  }

  /**
   * One summary row: a rule on all data, or a failing or the tightest slice of a per-slice rule.
   */
  private record Row(
      String rule,
      String slice,
      String measured,
      String limit,
      String margin,
      RuleVerdict.Outcome outcome) {}

  private static List<Row> rows(Judgement j, String candidate) {
    Map<Rule, List<RuleVerdict>> byRule = new LinkedHashMap<>();
    for (RuleVerdict v : j.verdicts(candidate)) {
      byRule.computeIfAbsent(v.rule(), r -> new ArrayList<>()).add(v);
    }
    List<Row> rows = new ArrayList<>();
    byRule.forEach(
        (rule, vs) -> {
          if (!rule.perSlice()) {
            vs.forEach(v -> rows.add(row(v, v.slice())));
            return;
          }
          List<RuleVerdict> judged =
              vs.stream().filter(v -> v.outcome() != RuleVerdict.Outcome.SKIPPED).toList();
          long skipped = vs.size() - judged.size();
          String suffix = skipped == 0 ? "" : ", " + skipped + " skipped";
          List<RuleVerdict> failed = judged.stream().filter(RuleVerdict::failed).toList();
          if (!failed.isEmpty()) {
            for (int i = 0; i < failed.size(); i++) {
              RuleVerdict v = failed.get(i);
              String count =
                  " (" + failed.size() + " of " + judged.size() + " slices fail" + suffix + ")";
              rows.add(row(v, i == 0 ? v.slice() + count : v.slice()));
            }
          } else if (!judged.isEmpty()) {
            RuleVerdict tightest =
                judged.stream()
                    .min(Comparator.comparingDouble(v -> v.margin() == null ? 0 : v.margin()))
                    .orElseThrow();
            rows.add(
                row(
                    tightest,
                    tightest.slice()
                        + " (tightest of "
                        + judged.size()
                        + " slices"
                        + suffix
                        + ")"));
          } else {
            rows.add(row(vs.get(0), "every slice skipped: " + vs.get(0).note()));
          }
        });
    return rows;
  }

  private static Row row(RuleVerdict v, String slice) {
    String measured = v.measuredText();
    if (v.measured() == null) {
      measured = v.note();
    } else if (!v.rule().limit().quantityName().equals("value")
        && v.value() != null
        && v.baseline() != null) {
      measured += " (" + Format.num(v.baseline()) + " → " + Format.num(v.value()) + ")";
    }
    if (v.rule().use() == Rule.Use.WORST_BOUND && v.measured() != null) {
      measured += " at the worst bound";
    }
    return new Row(
        v.rule().describe(), slice, measured, v.limitText(), v.marginText(), v.outcome());
  }

  private static long count(List<RuleVerdict> vs, RuleVerdict.Outcome o) {
    return vs.stream().filter(v -> v.outcome() == o).count();
  }

  private static @Nullable Double finite(@Nullable Double v) {
    return v == null || !Double.isFinite(v) ? null : v;
  }

  private static String cell(String s) {
    return s.replace("|", "\\|").replace("\n", " ");
  }

  private static String write(Object tree) {
    try {
      return JSON.writeValueAsString(tree);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize the verdicts", e);
    }
  }
}

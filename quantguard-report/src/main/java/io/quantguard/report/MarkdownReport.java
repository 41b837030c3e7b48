package io.quantguard.report;

import java.util.List;

/** {@code report.md}: the evaluation as a pull-request comment (tables, no pictures). */
final class MarkdownReport {
  private MarkdownReport() {}

  static String render(EvaluationReport report) {
    ReportTables t = new ReportTables(report);
    StringBuilder b = new StringBuilder();
    b.append("## ").append(t.title()).append("\n\n").append(t.intro()).append("\n\n");
    table(b, t.verdicts());
    table(b, t.headline());
    if (t.classification()) {
      table(b, t.mcnemar());
      table(b, t.perClass());
      table(b, t.flips());
    }
    if (report.baseline().slices().size() > 1) {
      table(b, t.slices());
      table(b, t.sliceTail());
    }
    table(b, t.figures());
    table(b, t.cost());
    table(b, t.calibrationCoverage());
    table(b, t.clippingSamples());
    b.append("### Data hygiene\n\n");
    t.hygiene().forEach(l -> b.append("- ").append(l).append('\n'));
    b.append('\n');
    if (!report.warnings().isEmpty()) {
      b.append("### Warnings\n\n");
      report.warnings().forEach(w -> b.append("- ").append(w).append('\n'));
      b.append('\n');
    }
    b.append("<details><summary>Run settings</summary>\n\n");
    t.settings().forEach(l -> b.append("- ").append(cell(l)).append('\n'));
    b.append("\n</details>\n");
    return b.toString();
  }

  /** A summary for terminals: the verdicts and the headline table. */
  static String summary(EvaluationReport report) {
    ReportTables t = new ReportTables(report);
    StringBuilder b = new StringBuilder();
    b.append(t.title()).append("\n\n");
    table(b, t.verdicts());
    table(b, t.headline());
    CalibrationCoverage coverage = report.calibrationCoverage();
    if (coverage != null) {
      b.append(t.coverageLine(coverage)).append("\n\n");
    }
    if (!report.warnings().isEmpty()) {
      report.warnings().forEach(w -> b.append("warning: ").append(w).append('\n'));
    }
    return b.toString();
  }

  private static void table(StringBuilder b, ReportTables.Table t) {
    if (t.rows().isEmpty()) {
      return;
    }
    b.append("### ").append(t.title()).append("\n\n");
    row(b, t.header());
    b.append('|');
    t.header().forEach(h -> b.append("---|"));
    b.append('\n');
    t.rows().forEach(r -> row(b, r));
    if (t.note() != null) {
      b.append('\n').append(cell(t.note())).append('\n');
    }
    b.append('\n');
  }

  private static void row(StringBuilder b, List<String> cells) {
    b.append('|');
    cells.forEach(c -> b.append(' ').append(cell(c)).append(" |"));
    b.append('\n');
  }

  private static String cell(String s) {
    return s.replace("|", "\\|").replace("\n", " ");
  }
}

package io.quantguard.report;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code report.html}: the verdicts first, then charts (trade-off frontier, latency distributions,
 * per-slice and per-class differences, confusion-difference heat maps) drawn by Apache ECharts from
 * the embedded report JSON, then the tables. ECharts comes from its webjar and is inlined, so the
 * page needs no network to view, and it is one file to attach or archive.
 */
final class HtmlReport {
  private static final String ECHARTS =
      "META-INF/resources/webjars/echarts/5.3.1/dist/echarts.min.js";
  private static final Pattern SLOT = Pattern.compile("\\{\\{([A-Z]+)}}");

  private HtmlReport() {}

  static String render(EvaluationReport report, String json) {
    ReportTables t = new ReportTables(report);
    StringBuilder tables = new StringBuilder();
    if (t.classification()) {
      table(tables, t.mcnemar());
      table(tables, t.perClass());
      table(tables, t.flips());
    }
    if (report.baseline().slices().size() > 1) {
      table(tables, t.slices());
      table(tables, t.sliceTail());
    }
    table(tables, t.figures());
    table(tables, t.cost());
    table(tables, t.calibrationCoverage());
    table(tables, t.clippingSamples());
    StringBuilder verdicts = new StringBuilder();
    for (EvaluationReport.ModelReport c : report.candidates()) {
      verdicts
          .append("<div class=\"card ")
          .append(escape(c.verdict().outcome()))
          .append("\"><div class=\"name\">")
          .append(escape(c.name()))
          .append("</div><div class=\"outcome\">")
          .append(escape(c.verdict().outcome().replace('_', ' ')))
          .append("</div><div>")
          .append(escape(c.verdict().summary()))
          .append("</div></div>");
    }
    StringBuilder headline = new StringBuilder();
    table(headline, t.headline());
    String warnings =
        report.warnings().isEmpty()
            ? ""
            : "<h2>Warnings</h2>" + list(report.warnings()).replace("<li>", "<li class=\"warn\">");
    Map<String, String> slots =
        Map.of(
            "TITLE", escape(t.title()),
            "INTRO", escape(t.intro()),
            "VERDICTS", verdicts.toString(),
            "HEADLINE", headline.toString(),
            "TABLES", tables.toString(),
            "HYGIENE", list(t.hygiene()),
            "WARNINGS", warnings,
            "SETTINGS", list(t.settings()),
            // "<" only occurs inside JSON strings, where \u003c means the same: no "</script>".
            "DATA", json.replace("<", "\\u003c"),
            "SCRIPT", resource("io/quantguard/report/report.js"));
    String template = resource("io/quantguard/report/report.html");
    Matcher m = SLOT.matcher(template);
    StringBuilder out = new StringBuilder(template.length() + 1_100_000);
    int at = 0;
    while (m.find()) {
      out.append(template, at, m.start());
      String key = m.group(1);
      out.append(key.equals("ECHARTS") ? resource(ECHARTS) : slots.getOrDefault(key, ""));
      at = m.end();
    }
    out.append(template, at, template.length());
    return out.toString();
  }

  private static void table(StringBuilder b, ReportTables.Table t) {
    if (t.rows().isEmpty()) {
      return;
    }
    b.append("<h2>").append(escape(t.title())).append("</h2><table><thead><tr>");
    t.header().forEach(h -> b.append("<th>").append(escape(h)).append("</th>"));
    b.append("</tr></thead><tbody>");
    for (List<String> row : t.rows()) {
      b.append("<tr>");
      for (int i = 0; i < row.size(); i++) {
        b.append(i == 0 ? "<td>" : "<td class=\"num\">").append(escape(row.get(i))).append("</td>");
      }
      b.append("</tr>");
    }
    b.append("</tbody></table>");
    if (t.note() != null) {
      b.append("<p class=\"note\">").append(escape(t.note())).append("</p>");
    }
  }

  private static String list(List<String> items) {
    StringBuilder b = new StringBuilder("<ul>");
    items.forEach(i -> b.append("<li>").append(escape(i)).append("</li>"));
    return b.append("</ul>").toString();
  }

  static String escape(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }

  private static String resource(String name) {
    try (InputStream in = HtmlReport.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(name + " is missing from the class path");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

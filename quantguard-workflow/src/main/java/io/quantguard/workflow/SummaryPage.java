package io.quantguard.workflow;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@code summary.html}: what a reviewer reads in two minutes — the verdict, the headline figures
 * against FP32, the approach and why, each step with its finding, and links to the detailed reports
 * (baseline, tuning, final evaluation, gate) and the artifacts. Self-contained, no scripts.
 */
final class SummaryPage {
  private SummaryPage() {}

  static String html(WorkflowResult r) {
    Workflow.Verdict v = r.verdict();
    Workflow.Final f = r.evaluation();
    StringBuilder b = new StringBuilder();
    b.append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>QuantGuard: ")
        .append(esc(r.project()))
        .append("</title><style>")
        .append("body{font-family:sans-serif;margin:24px;max-width:1100px;color:#222}")
        .append("table{border-collapse:collapse;margin:8px 0 20px}")
        .append("td,th{border:1px solid #ccc;padding:4px 10px;text-align:left;vertical-align:top}")
        .append(".pass{background:#27ae60}.fail{background:#c0392b}")
        .append(".verdict{color:#fff;padding:12px 16px;font-size:20px;border-radius:4px}")
        .append(".muted{color:#777}")
        .append("</style></head><body>");
    b.append("<h1>QuantGuard run: ").append(esc(r.project())).append("</h1>");
    b.append("<p class=\"muted\">Project ").append(esc(r.source())).append("</p>");
    b.append("<div class=\"verdict ")
        .append(v.passed() ? "pass" : "fail")
        .append("\">")
        .append(v.passed() ? "PASS" : "FAIL")
        .append(" — policy '")
        .append(esc(v.policy()))
        .append("', ")
        .append(v.checks())
        .append(" checks")
        .append(v.failures().isEmpty() ? "" : ", " + v.failures().size() + " failed")
        .append("</div>");
    if (!v.failures().isEmpty()) {
      b.append("<ul>");
      v.failures().forEach(x -> b.append("<li>").append(esc(x)).append("</li>"));
      b.append("</ul>");
    }

    b.append("<h2>Against FP32</h2><table><tr><th>")
        .append(esc(f.metric()))
        .append(" FP32</th><th>candidate</th><th>difference</th><th>p95 latency ratio</th>")
        .append("<th>size ratio</th><th>worst slice</th></tr><tr><td>")
        .append(Workflow.fmt(f.baseline()))
        .append("</td><td>")
        .append(Workflow.fmt(f.candidate()))
        .append("</td><td>")
        .append(Workflow.fmt(f.delta()))
        .append("</td><td>")
        .append(Workflow.fmt(f.latencyRatio()))
        .append("</td><td>")
        .append(Workflow.fmt(f.sizeRatio()))
        .append("</td><td>")
        .append(esc(f.worstSlice() == null ? "" : f.worstSlice()))
        .append("</td></tr></table>");

    Recommendation a = r.approach();
    b.append("<h2>Approach: ").append(esc(a.approach().spelling())).append("</h2><p>");
    b.append(esc(a.reason())).append("</p>");
    Workflow.Candidate c = r.candidate();
    if (!c.decisions().isEmpty()) {
      b.append("<p>Decisions:</p><ul>");
      c.decisions().forEach(d -> b.append("<li>").append(esc(d)).append("</li>"));
      b.append("</ul>");
    }

    b.append("<h2>Steps</h2><table><tr><th>#</th><th>step</th><th>finding</th><th>run</th>")
        .append("<th>details</th></tr>");
    Map<String, Map<String, String>> links = links(r);
    for (Workflow.Step s : r.steps()) {
      b.append("<tr><td>")
          .append(s.index())
          .append("</td><td>")
          .append(esc(s.title()))
          .append("</td><td>")
          .append(esc(s.line()))
          .append("</td><td>")
          .append(
              String.format(
                  Locale.ROOT, s.reused() ? "reused (%.0f s before)" : "%.0f s", s.seconds()))
          .append("</td><td>");
      links
          .getOrDefault(s.name(), Map.of())
          .forEach(
              (label, href) ->
                  b.append("<a href=\"")
                      .append(esc(href))
                      .append("\">")
                      .append(esc(label))
                      .append("</a> "));
      b.append("</td></tr>");
    }
    b.append("</table>");

    Workflow.Registered reg = r.registered();
    b.append("<h2>Registry</h2><p>")
        .append(esc(reg.candidate()))
        .append(" (stage candidate), derived from ")
        .append(esc(reg.parent()))
        .append(", in ")
        .append(esc(reg.location()));
    if (r.rollout() == null) {
      b.append(". Promote after review: <code>quantguard registry promote ")
          .append(esc(reg.candidate()))
          .append(" --to canary --reason ...</code>");
    }
    b.append(".</p>");
    Workflow.Rollout ro = r.rollout();
    if (ro != null) {
      b.append("<h2>Rollout</h2><p>");
      if (ro.baseline() == null) {
        b.append(esc(ro.candidate())).append(": ").append(esc(ro.status())).append(".</p>");
      } else {
        b.append(esc(ro.mode()))
            .append(" of ")
            .append(esc(ro.candidate()))
            .append(" against ")
            .append(esc(ro.baseline()))
            .append(" (production), steps ")
            .append(esc(ro.steps().toString()))
            .append(" %, judged by the live policy '")
            .append(esc(ro.policy()))
            .append("': ")
            .append(esc(ro.status()))
            .append(". Serve it: <code>")
            .append(esc(ro.serve()))
            .append("</code></p>");
      }
    }
    b.append("<p class=\"muted\">Each step's output is in steps/ under this folder, keyed by a")
        .append(" content hash of its inputs; running again reuses every step whose inputs did")
        .append(" not change.</p></body></html>\n");
    return b.toString();
  }

  /** Links per step to the files that exist, relative to the summary. */
  private static Map<String, Map<String, String>> links(WorkflowResult r) {
    Map<String, Map<String, String>> out = new LinkedHashMap<>();
    add(out, r.out(), "baseline", "report", "steps/baseline/report/report.html");
    add(out, r.out(), "approach", "record", "steps/approach/step.json");
    add(out, r.out(), "tune", "tuning", "steps/tune/tuned/tuning.html");
    add(out, r.out(), "tune", "recipe", r.candidate().recipe());
    add(out, r.out(), "tune", "model", r.candidate().model());
    add(out, r.out(), "evaluate", "report", "steps/evaluate/report/report.html");
    add(out, r.out(), "evaluate", "json", "steps/evaluate/report/report.json");
    add(out, r.out(), "gate", "gate", "steps/gate/gate.md");
    add(out, r.out(), "gate", "junit", "steps/gate/junit.xml");
    add(out, r.out(), "gate", "policy", "policy.yaml");
    return out;
  }

  private static void add(
      Map<String, Map<String, String>> out, Path root, String step, String label, String rel) {
    if (Files.exists(root.resolve(rel))) {
      out.computeIfAbsent(step, k -> new LinkedHashMap<>()).put(label, rel);
    }
  }

  static String esc(String s) {
    return s == null
        ? ""
        : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}

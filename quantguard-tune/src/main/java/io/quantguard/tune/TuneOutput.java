package io.quantguard.tune;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.report.AtomicFile;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.ReportWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Writes a tuning run's results: the tuned recipe and model, the best candidate's evaluation, and
 * the tuning report (JSON for machines, Markdown for the pull request, HTML with the trade-off
 * curve and the ranking for people). Each file is written atomically.
 */
final class TuneOutput {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private TuneOutput() {}

  static void write(
      Path out, TuneResult r, Recipe recipe, OnnxModel model, EvaluationReport report) {
    try {
      Files.createDirectories(out);
      AtomicFile.write(out.resolve("recipe.yaml"), header(r) + RecipeIO.toYaml(recipe));
      ModelIO.save(model, out.resolve("model.onnx"));
      ReportWriter.write(report, out.resolve("report"));
      AtomicFile.write(out.resolve("tuning.json"), JSON.writeValueAsString(r));
      AtomicFile.write(out.resolve("tuning.md"), markdown(r));
      AtomicFile.write(out.resolve("tuning.html"), html(r));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the tuning results into " + out, e);
    }
  }

  private static String header(TuneResult r) {
    return String.format(
        Locale.ROOT,
        "# Tuned by quantguard tune against policy '%s': %s, %d nodes in higher precision,"
            + " %d evaluations.%n",
        r.policy(),
        r.passed() ? "passes" : "does NOT pass",
        r.best().higherPrecision(),
        r.evaluations());
  }

  static String markdown(TuneResult r) {
    StringBuilder b = new StringBuilder();
    Trial best = r.best();
    b.append("# Tuning: ").append(r.model()).append("\n\n");
    b.append(
        String.format(
            Locale.ROOT,
            "**%s** policy `%s` with %d node(s) in higher precision (trial %d); %d of %d"
                + " evaluations, %.0f s.%n%n",
            r.passed() ? "Passes" : "Does not pass",
            r.policy(),
            best.higherPrecision(),
            best.index(),
            r.evaluations(),
            r.budget(),
            r.seconds()));
    if (!best.gaps().isEmpty()) {
      b.append(
          "Remaining gaps:\n\n| rule | slice | measured | limit | margin |\n|---|---|---|---|---|\n");
      for (Trial.Gap g : best.gaps()) {
        b.append("| ")
            .append(g.rule())
            .append(" | ")
            .append(g.slice())
            .append(" | ")
            .append(g.measured())
            .append(" | ")
            .append(g.limit())
            .append(" | ")
            .append(g.margin())
            .append(" |\n");
      }
      b.append('\n');
    }
    b.append("## Decisions\n\n");
    if (r.decisions().isEmpty()) {
      b.append("None: the start recipe is the answer.\n\n");
    } else {
      b.append("| node or tensor | action | evidence |\n|---|---|---|\n");
      for (Decision d : r.decisions()) {
        b.append("| `")
            .append(String.join("`, `", d.nodes()))
            .append("` | ")
            .append(d.action())
            .append(" | ")
            .append(d.evidence())
            .append(" |\n");
      }
      b.append('\n');
    }
    TrainingOutcome qat = r.training();
    if (qat != null) {
      b.append("## Quantization-aware training\n\n")
          .append(qat.description())
          .append(
              String.format(
                  Locale.ROOT,
                  "; quality %s (trial %d) → %s (trial %s): %s. Trained FP32 model `%s`"
                      + " (sha256 %s).%n%n",
                  qat.before(),
                  qat.beforeTrial(),
                  qat.after(),
                  qat.trial() == null ? "none: budget spent" : qat.trial(),
                  qat.improved() ? "closer to the policy" : "not closer to the policy",
                  qat.model(),
                  qat.modelSha256()));
    }
    b.append("## Trade-off curve (every evaluation)\n\n");
    b.append(
        "| trial | phase | nodes in higher precision | quality | p95 latency ratio | size ratio |"
            + " policy |\n|---|---|---|---|---|---|---|\n");
    for (Trial t : curve(r.trials())) {
      b.append(
          String.format(
              Locale.ROOT,
              "| %d | %s | %d | %s | %s | %s | %s |%n",
              t.index(),
              t.phase(),
              t.higherPrecision(),
              t.quality() == null ? "" : String.format(Locale.ROOT, "%.5f", t.quality()),
              t.latencyRatio() == null ? "" : String.format(Locale.ROOT, "%.3f", t.latencyRatio()),
              t.sizeRatio() == null ? "" : String.format(Locale.ROOT, "%.3f", t.sizeRatio()),
              t.passed()
                  ? "pass"
                  : "fail: "
                      + String.join(
                          "; ",
                          t.gaps().stream()
                              .limit(3)
                              .map(g -> g.rule() + " " + g.measured())
                              .toList())));
    }
    b.append("\n## Sensitivity ranking (model output SQNR with only the group quantized)\n\n");
    b.append("| rank | nodes | op | SQNR (dB) |\n|---|---|---|---|\n");
    int i = 0;
    for (RankedGroup g : r.ranking()) {
      b.append(
          String.format(
              Locale.ROOT,
              "| %d | `%s` | %s | %.2f |%n",
              ++i,
              String.join("`, `", g.nodes()),
              g.opType(),
              g.outputSqnrDb()));
    }
    return b.toString();
  }

  private static List<Trial> curve(List<Trial> trials) {
    return trials.stream()
        .sorted(Comparator.comparingInt(Trial::higherPrecision).thenComparingInt(Trial::index))
        .toList();
  }

  static String html(TuneResult r) throws JsonProcessingException {
    String trials = new ObjectMapper().writeValueAsString(curve(r.trials()));
    String ranking = new ObjectMapper().writeValueAsString(r.ranking());
    int height = Math.max(300, 22 * r.ranking().size() + 80);
    return "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>QuantGuard tuning</title>"
        + "<style>body{font-family:sans-serif;margin:24px;color:#222}</style><script>"
        + SensitivityHtml.echarts()
        + "</script></head><body><h1>Tuning: "
        + SensitivityHtml.esc(r.model())
        + "</h1><p>"
        + SensitivityHtml.esc(
            String.format(
                Locale.ROOT,
                "%s policy '%s' with %d node(s) in higher precision; %d evaluations.",
                r.passed() ? "Passes" : "Does not pass",
                r.policy(),
                r.best().higherPrecision(),
                r.evaluations()))
        + "</p><h2>Trade-off curve</h2><div id=\"curve\" style=\"width:1000px;height:420px\"></div>"
        + "<h2>Sensitivity ranking</h2><div id=\"rank\" style=\"width:1100px;height:"
        + height
        + "px\"></div><script>const t="
        + trials
        + ";const r="
        + ranking
        + ".slice().reverse();"
        + "echarts.init(document.getElementById('curve')).setOption({animation:false,"
        + "tooltip:{trigger:'item',formatter:p=>'trial '+p.data[2]+': '+p.seriesName+' '+p.data[1]},"
        + "legend:{data:['quality','p95 latency ratio']},"
        + "xAxis:{type:'value',name:'nodes in higher precision',nameLocation:'middle',nameGap:28,minInterval:1},"
        + "yAxis:[{type:'value',name:'quality',scale:true},{type:'value',name:'latency ratio',scale:true}],"
        + "series:[{name:'quality',type:'scatter',symbolSize:12,"
        + "data:t.filter(x=>x.quality!=null).map(x=>[x.higherPrecision,x.quality,x.index]),"
        + "itemStyle:{color:p=>t.find(x=>x.index===p.data[2]).passed?'#27ae60':'#c0392b'}},"
        + "{name:'p95 latency ratio',type:'scatter',yAxisIndex:1,symbol:'diamond',symbolSize:10,"
        + "data:t.filter(x=>x.latencyRatio!=null).map(x=>[x.higherPrecision,x.latencyRatio,x.index]),"
        + "itemStyle:{color:'#2c3e50'}}]});"
        + "echarts.init(document.getElementById('rank')).setOption({animation:false,grid:{left:420,right:40},"
        + "tooltip:{trigger:'axis'},xAxis:{type:'value',name:'dB'},"
        + "yAxis:{type:'category',data:r.map(g=>g.nodes.join(', ')+' ('+g.opType+')'),axisLabel:{fontSize:11}},"
        + "series:[{type:'bar',data:r.map(g=>+g.outputSqnrDb.toFixed(2)),itemStyle:{color:'#c0392b'}}]});"
        + "</script></body></html>";
  }
}

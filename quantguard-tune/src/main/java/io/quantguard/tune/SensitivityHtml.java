package io.quantguard.tune;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The sensitivity report as one self-contained HTML page: a ranked bar chart (ECharts, inlined from
 * its webjar, so the page needs no network) of the model-output SQNR with each node quantized
 * alone, next to the node's own output SQNR, then the tables.
 */
public final class SensitivityHtml {
  private static final String ECHARTS =
      "/META-INF/resources/webjars/echarts/5.3.1/dist/echarts.min.js";

  private SensitivityHtml() {}

  public static String render(SensitivityReport r) {
    StringBuilder rows = new StringBuilder();
    for (SensitivityReport.NodeSensitivity n : r.nodes()) {
      rows.append(
          String.format(
              Locale.ROOT,
              "<tr><td>%s</td><td>%s</td><td>%.2f</td><td>%.2f</td></tr>%n",
              esc(n.node()),
              esc(n.opType()),
              n.outputSqnrDb(),
              n.nodeOutputSqnrDb()));
    }
    StringBuilder tensorRows = new StringBuilder();
    for (SensitivityReport.TensorError t : r.tensors()) {
      tensorRows.append(
          String.format(
              Locale.ROOT, "<tr><td>%s</td><td>%.2f</td></tr>%n", esc(t.tensor()), t.sqnrDb()));
    }
    String data;
    try {
      data = new ObjectMapper().writeValueAsString(r.nodes());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    int height = Math.max(300, 28 * r.nodes().size() + 80);
    return "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>QuantGuard sensitivity</title>"
        + "<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;font-size:13px}"
        + "td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}th{background:#f3f3f3}h2{margin-top:28px}</style>"
        + "<script>"
        + echarts()
        + "</script></head><body>"
        + "<h1>Per-node sensitivity</h1>"
        + String.format(
            Locale.ROOT,
            "<p>%s — every planned node quantized alone, compared with FP32 on %d validation samples "
                + "(calibration: %d samples). Model output SQNR with all of them quantized: <b>%.2f dB</b>. "
                + "Lower SQNR = more sensitive; the top of the chart is where higher precision pays most.</p>",
            esc(r.model()),
            r.validationSamples(),
            r.calibrationSamples(),
            r.fullOutputSqnrDb())
        + "<div id=\"chart\" style=\"width:1100px;height:"
        + height
        + "px\"></div>"
        + "<script>const d="
        + data
        + ".slice().reverse();"
        + "echarts.init(document.getElementById('chart')).setOption({animation:false,"
        + "legend:{data:['model output SQNR (dB)','node output SQNR (dB)']},grid:{left:420,right:40},"
        + "tooltip:{trigger:'axis'},xAxis:{type:'value',name:'dB'},"
        + "yAxis:{type:'category',data:d.map(n=>n.node+' ('+n.opType+')'),axisLabel:{fontSize:11}},"
        + "series:[{name:'model output SQNR (dB)',type:'bar',data:d.map(n=>+n.outputSqnrDb.toFixed(2)),itemStyle:{color:'#c0392b'}},"
        + "{name:'node output SQNR (dB)',type:'bar',data:d.map(n=>+n.nodeOutputSqnrDb.toFixed(2)),itemStyle:{color:'#7f8c8d'}}]});</script>"
        + "<h2>Nodes, most sensitive first</h2><table><tr><th>node</th><th>op</th><th>model output SQNR (dB)</th><th>node output SQNR (dB)</th></tr>"
        + rows
        + "</table>"
        + taskTable(r.taskImpact())
        + "<h2>Activation tensors: error of quantization alone</h2><table><tr><th>tensor</th><th>SQNR (dB)</th></tr>"
        + tensorRows
        + "</table>"
        + String.format(
            Locale.ROOT, "<p>%d model evaluations in %.1f s.</p>", r.evaluations(), r.seconds())
        + "</body></html>";
  }

  private static String taskTable(SensitivityReport.@Nullable TaskImpact t) {
    if (t == null) {
      return "";
    }
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            Locale.ROOT,
            "<h2>Task metric: %s</h2><p>FP32 %s; every node quantized %.4f.</p>"
                + "<table><tr><th>node</th><th>only this node quantized</th>"
                + "<th>only this node in float</th></tr>",
            esc(t.metric()),
            t.fp32() == null ? "(the reference)" : String.format(Locale.ROOT, "%.4f", t.fp32()),
            t.allQuantized()));
    for (SensitivityReport.NodeTaskImpact n : t.nodes()) {
      b.append(
          String.format(
              Locale.ROOT,
              "<tr><td>%s</td><td>%.4f</td><td>%.4f</td></tr>",
              esc(n.node()),
              n.onlyThisQuantized(),
              n.onlyThisFloat()));
    }
    return b.append("</table>").toString();
  }

  static String echarts() {
    try (InputStream in = SensitivityHtml.class.getResourceAsStream(ECHARTS)) {
      if (in == null) {
        throw new IllegalStateException("ECharts is not on the class path (" + ECHARTS + ")");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}

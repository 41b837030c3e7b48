package io.quantguard.evaluate.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Operator profiles as text: per batch size, the kernel time of every operator type with one column
 * per model, the split into float, integer and conversion time, then each model's slowest nodes.
 */
public final class ProfileTable {
  private static final int NODES_SHOWN = 8;

  private ProfileTable() {}

  public static String render(List<OperatorProfile> profiles) {
    StringBuilder out = new StringBuilder();
    Map<Integer, List<OperatorProfile>> byBatch = new LinkedHashMap<>();
    for (OperatorProfile p : profiles) {
      byBatch.computeIfAbsent(p.batchSize(), b -> new ArrayList<>()).add(p);
    }
    for (Map.Entry<Integer, List<OperatorProfile>> e : byBatch.entrySet()) {
      batch(out, e.getKey(), e.getValue());
    }
    return out.toString();
  }

  private static void batch(StringBuilder out, int batchSize, List<OperatorProfile> models) {
    line(
        out,
        "\nOperator profile, batch %d (ONNX Runtime profiler, %d runs per model after warm-up):"
            + " kernel ms per run and share of the model's kernel time",
        batchSize,
        models.get(0).runs());
    List<String> types = new ArrayList<>();
    for (OperatorProfile p : models) {
      for (OperatorProfile.Operator o : p.opTypes()) {
        if (!types.contains(o.name())) {
          types.add(o.name());
        }
      }
    }
    Map<String, String> labels = new LinkedHashMap<>();
    for (String t : types) {
      labels.put(t, t + " (" + arithmetic(models, t) + ")");
    }
    int w = Math.max(30, labels.values().stream().mapToInt(String::length).max().orElse(30));
    StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-" + w + "s", "op type"));
    for (int i = 0; i < models.size(); i++) {
      head.append(
          String.format(
              Locale.ROOT, " %18s", cut("#" + (i + 1) + " " + models.get(i).model(), 18)));
    }
    out.append(head).append('\n');
    for (String t : types) {
      StringBuilder row = new StringBuilder();
      for (OperatorProfile p : models) {
        OperatorProfile.Operator o =
            p.opTypes().stream().filter(x -> x.name().equals(t)).findFirst().orElse(null);
        if (o == null) {
          row.append(String.format(Locale.ROOT, " %18s", "—"));
        } else {
          row.append(String.format(Locale.ROOT, " %9.3f %6.1f %%", o.msPerRun(), o.share() * 100));
        }
      }
      out.append(String.format(Locale.ROOT, "%-" + w + "s", labels.get(t)))
          .append(row)
          .append('\n');
    }
    StringBuilder total =
        new StringBuilder(String.format(Locale.ROOT, "%-" + w + "s", "kernel total"));
    StringBuilder split =
        new StringBuilder(
            String.format(Locale.ROOT, "%-" + w + "s", "float / integer / convert / other"));
    for (OperatorProfile p : models) {
      total.append(String.format(Locale.ROOT, " %9.3f %8s", p.kernelMsPerRun(), ""));
      split.append(
          String.format(
              Locale.ROOT,
              " %18s",
              String.format(
                  Locale.ROOT,
                  "%.0f / %.0f / %.0f / %.0f %%",
                  p.floatShare() * 100,
                  p.integerShare() * 100,
                  p.conversionShare() * 100,
                  Math.max(0, 1 - p.floatShare() - p.integerShare() - p.conversionShare()) * 100)));
    }
    out.append(total).append('\n').append(split).append('\n');
    for (int i = 0; i < models.size(); i++) {
      OperatorProfile p = models.get(i);
      line(out, "slowest nodes of #%d %s:", i + 1, p.model());
      for (OperatorProfile.Operator o :
          p.nodes().subList(0, Math.min(NODES_SHOWN, p.nodes().size()))) {
        line(
            out,
            "  %8.3f ms %5.1f %%  %-30s %s",
            o.msPerRun(),
            o.share() * 100,
            o.opType() + " (" + o.arithmetic().name().toLowerCase(Locale.ROOT) + ")",
            o.name());
      }
    }
  }

  /** The arithmetic of an operator type, as the first model that runs it has it. */
  private static String arithmetic(List<OperatorProfile> models, String type) {
    for (OperatorProfile p : models) {
      for (OperatorProfile.Operator o : p.opTypes()) {
        if (o.name().equals(type)) {
          return o.arithmetic().name().toLowerCase(Locale.ROOT);
        }
      }
    }
    return "";
  }

  private static String cut(String s, int n) {
    return s.length() <= n ? s : "…" + s.substring(s.length() - n + 1);
  }

  private static void line(StringBuilder out, String format, Object... args) {
    out.append(String.format(Locale.ROOT, format, args)).append('\n');
  }
}

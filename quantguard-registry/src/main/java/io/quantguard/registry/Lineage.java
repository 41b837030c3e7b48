package io.quantguard.registry;

import io.quantguard.report.ByteUnits;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where versions came from: a graph whose nodes are versions and whose edges run from a parent (the
 * FP32 model) to what was derived from it, across model names. Printed as a tree from the roots.
 *
 * @param focus what was asked for
 * @param versions the versions in the graph, ordered by model and version
 * @param edges parent → child
 */
public record Lineage(ArtifactRef focus, List<ArtifactVersion> versions, List<Edge> edges) {

  /** {@code parent} was the input from which {@code child} was made. */
  public record Edge(ArtifactRef parent, ArtifactRef child) {}

  public Lineage {
    versions = List.copyOf(versions);
    edges = List.copyOf(edges);
  }

  /** The graph as an indented tree, one line per version. */
  public String render() {
    Map<String, ArtifactVersion> byRef = new LinkedHashMap<>();
    versions.forEach(v -> byRef.put(v.ref().toString(), v));
    Map<String, List<ArtifactVersion>> children = new LinkedHashMap<>();
    for (Edge e : edges) {
      ArtifactVersion child = byRef.get(e.child().toString());
      if (child != null) {
        children.computeIfAbsent(e.parent().toString(), k -> new ArrayList<>()).add(child);
      }
    }
    children.values().forEach(l -> l.sort(ORDER));
    StringBuilder out = new StringBuilder();
    for (ArtifactVersion v : versions) {
      if (v.parent() == null || !byRef.containsKey(v.parent().toString())) {
        render(v, "", "", children, out);
      }
    }
    return out.toString();
  }

  private static final Comparator<ArtifactVersion> ORDER =
      Comparator.comparing(ArtifactVersion::model).thenComparingInt(ArtifactVersion::version);

  private void render(
      ArtifactVersion v,
      String lead,
      String childLead,
      Map<String, List<ArtifactVersion>> children,
      StringBuilder out) {
    out.append(lead).append(describe(v)).append('\n');
    List<ArtifactVersion> kids = children.getOrDefault(v.ref().toString(), List.of());
    for (int i = 0; i < kids.size(); i++) {
      boolean last = i == kids.size() - 1;
      render(
          kids.get(i),
          childLead + (last ? "└── " : "├── "),
          childLead + (last ? "    " : "│   "),
          children,
          out);
    }
  }

  private String describe(ArtifactVersion v) {
    StringBuilder s = new StringBuilder();
    boolean focused =
        v.model().equals(focus.model())
            && (focus.version() == null || focus.version() == v.version())
            && (focus.alias() == null || focus.alias() == v.stage());
    s.append(v.ref()).append(focused && focus.pinned() ? " ◀" : "");
    s.append("  ").append(v.stage().id());
    s.append("  ").append(v.mode() != null ? v.mode() : "float");
    s.append("  ").append(ByteUnits.format(v.sizeBytes()));
    s.append("  sha256 ").append(v.sha256(), 0, 12);
    if (v.recipeSha256() != null) {
      s.append("  recipe ").append(v.recipeSha256(), 0, 12);
    }
    if (v.calibrationFingerprint() != null && !v.calibrationFingerprint().isEmpty()) {
      s.append("  calibration ")
          .append(v.calibrationFingerprint(), 0, Math.min(12, v.calibrationFingerprint().length()));
      if (v.calibrationSamples() != null) {
        s.append(" (").append(v.calibrationSamples()).append(" samples)");
      }
    }
    if (v.toolVersion() != null) {
      s.append("  quantguard ").append(v.toolVersion());
    }
    if (v.reportSha256() != null) {
      s.append("  report");
    }
    return s.toString();
  }
}

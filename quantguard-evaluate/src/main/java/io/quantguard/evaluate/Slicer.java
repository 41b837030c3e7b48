package io.quantguard.evaluate;

import io.quantguard.onnx.InvalidInputException;
import java.util.Arrays;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Splits the evaluation data into named slices, so every metric is also reported per slice and the
 * worst slice stands out ("multiple input distributions"). Spec syntax (parameter {@code
 * evaluation.sliceBy}):
 *
 * <ul>
 *   <li>{@code data}: by data set ({@code --data name=SPEC} given several times) → {@code
 *       data=name}
 *   <li>{@code label}: by label → {@code label=Coat}
 *   <li>{@code ATTR}: by a per-sample attribute of the data source (text sources give {@code
 *       tokens}, {@code truncated}); numbers fall in power-of-two buckets ({@code tokens:[16,32)}),
 *       other values slice by value ({@code truncated=true})
 *   <li>{@code ATTR=e1,e2,...}: numeric attribute in buckets split at the given edges ({@code
 *       tokens:<32}, {@code tokens:[32,64)}, {@code tokens:>=64})
 * </ul>
 */
public sealed interface Slicer extends java.io.Serializable
    permits Slicer.ByData, Slicer.ByLabel, Slicer.ByAttribute {
  /** The slice of one sample, or null to leave it out of this slicing. */
  @Nullable Key key(String dataset, long label, Map<String, String> attributes, Task<?> task);

  /** The spec that {@link #parse} turns back into this slicer. */
  String spec();

  /** A slice name and a number that orders slices of the same slicer. */
  record Key(String name, double order) {}

  static Slicer parse(String spec) {
    String s = spec == null ? "" : spec.trim();
    if (s.isEmpty()) {
      throw InvalidInputException.forParameter(
          "evaluation.sliceBy",
          null,
          "is empty",
          "write data, label, an attribute name or NAME=edge,edge");
    }
    if (s.equals("data")) {
      return new ByData();
    }
    if (s.equals("label")) {
      return new ByLabel();
    }
    int eq = s.indexOf('=');
    if (eq < 0) {
      return new ByAttribute(s, null);
    }
    String name = s.substring(0, eq).trim();
    try {
      double[] edges =
          Arrays.stream(s.substring(eq + 1).split(","))
              .map(String::trim)
              .mapToDouble(Double::parseDouble)
              .sorted()
              .toArray();
      if (name.isEmpty() || edges.length == 0) {
        throw new NumberFormatException();
      }
      return new ByAttribute(name, edges);
    } catch (NumberFormatException e) {
      throw InvalidInputException.forParameter(
          "evaluation.sliceBy",
          spec,
          "is not NAME=edge,edge,... with numeric edges",
          "write e.g. tokens=32,64");
    }
  }

  /** By data set name. */
  record ByData() implements Slicer {
    @Override
    public Key key(String dataset, long label, Map<String, String> attributes, Task<?> task) {
      return new Key("data=" + dataset, Double.NaN);
    }

    @Override
    public String spec() {
      return "data";
    }
  }

  /** By label (unlabeled samples are in no label slice). */
  record ByLabel() implements Slicer {
    @Override
    public @Nullable Key key(
        String dataset, long label, Map<String, String> attributes, Task<?> task) {
      return label < 0 ? null : new Key("label=" + task.labelName(label), label);
    }

    @Override
    public String spec() {
      return "label";
    }
  }

  /**
   * By a per-sample attribute, bucketed when numeric.
   *
   * @param edges bucket edges, ascending; null for power-of-two buckets
   */
  record ByAttribute(String attribute, double @Nullable [] edges) implements Slicer {
    @Override
    public Key key(String dataset, long label, Map<String, String> attributes, Task<?> task) {
      String v = attributes == null ? null : attributes.get(attribute);
      if (v == null) {
        return new Key(attribute + "=(none)", Double.POSITIVE_INFINITY);
      }
      double x;
      try {
        x = Double.parseDouble(v);
      } catch (NumberFormatException e) {
        return new Key(attribute + "=" + v, Double.NaN);
      }
      if (edges == null) {
        if (x < 1) {
          return new Key(attribute + ":<1", Double.NEGATIVE_INFINITY);
        }
        long lo = Long.highestOneBit((long) Math.floor(x));
        return new Key(attribute + ":[" + lo + "," + lo * 2 + ")", lo);
      }
      if (x < edges[0]) {
        return new Key(attribute + ":<" + num(edges[0]), Double.NEGATIVE_INFINITY);
      }
      for (int i = 1; i < edges.length; i++) {
        if (x < edges[i]) {
          return new Key(attribute + ":[" + num(edges[i - 1]) + "," + num(edges[i]) + ")", i);
        }
      }
      return new Key(attribute + ":>=" + num(edges[edges.length - 1]), edges.length);
    }

    private static String num(double d) {
      return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ByAttribute b
          && b.attribute.equals(attribute)
          && Arrays.equals(b.edges, edges);
    }

    @Override
    public int hashCode() {
      return attribute.hashCode() * 31 + Arrays.hashCode(edges);
    }

    @Override
    public String spec() {
      if (edges == null) {
        return attribute;
      }
      StringBuilder b = new StringBuilder(attribute).append('=');
      for (int i = 0; i < edges.length; i++) {
        b.append(i == 0 ? "" : ",").append(num(edges[i]));
      }
      return b.toString();
    }

    @Override
    public String toString() {
      return spec();
    }
  }
}

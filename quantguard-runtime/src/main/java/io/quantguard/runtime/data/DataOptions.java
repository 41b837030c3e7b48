package io.quantguard.runtime.data;

import io.quantguard.onnx.InvalidInputException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The options of one data spec ({@code ?key=value&...} or the keys of a dataset YAML), read with
 * typed getters. Every key a source does not read is reported as an error, so a typo never silently
 * changes what data a model sees.
 */
final class DataOptions {
  private final String spec;
  private final Map<String, Object> values;
  private final Set<String> read = new LinkedHashSet<>();

  DataOptions(String spec, Map<String, Object> values) {
    this.spec = spec;
    this.values = new LinkedHashMap<>(values);
  }

  String spec() {
    return spec;
  }

  String string(String key, String def) {
    String v = optional(key);
    return v == null ? def : v;
  }

  /** The option's value, or null where the spec does not set it. */
  @Nullable String optional(String key) {
    read.add(key);
    Object v = values.get(key);
    return v == null ? null : v.toString();
  }

  String required(String key, String why) {
    String v = optional(key);
    if (v == null || v.isBlank()) {
      throw new InvalidInputException(
          spec, "needs the option " + key + " (" + why + ")", "add ?" + key + "=...");
    }
    return v;
  }

  int integer(String key, int def) {
    String v = optional(key);
    if (v == null) {
      return def;
    }
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new InvalidInputException(
          spec, "option " + key + "=" + v + " is not an integer", "give a whole number");
    }
  }

  double number(String key, double def) {
    String v = optional(key);
    return v == null ? def : parseNumber(key, v);
  }

  boolean flag(String key, boolean def) {
    String v = optional(key);
    if (v == null) {
      return def;
    }
    return switch (v.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "true", "yes", "1", "on" -> true;
      case "false", "no", "0", "off" -> false;
      default ->
          throw new InvalidInputException(
              spec, "option " + key + "=" + v + " is not true or false", "write true or false");
    };
  }

  /** A list given as {@code a,b,c} or as a YAML list. */
  double @Nullable [] numbers(String key) {
    read.add(key);
    Object v = values.get(key);
    if (v == null) {
      return null;
    }
    List<String> parts = new ArrayList<>();
    if (v instanceof List<?> l) {
      l.forEach(x -> parts.add(x.toString()));
    } else {
      for (String s : v.toString().split(",")) {
        parts.add(s);
      }
    }
    double[] out = new double[parts.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = parseNumber(key, parts.get(i));
    }
    return out;
  }

  private double parseNumber(String key, String v) {
    String s = v.trim();
    try {
      int slash = s.indexOf('/');
      if (slash > 0) {
        return Double.parseDouble(s.substring(0, slash))
            / Double.parseDouble(s.substring(slash + 1));
      }
      return Double.parseDouble(s);
    } catch (NumberFormatException e) {
      throw new InvalidInputException(
          spec,
          "option " + key + "=" + v + " is not a number",
          "give a number such as 0.5 or 1/255");
    }
  }

  /** Fails on any option nobody read. */
  void rejectUnknown() {
    Set<String> unknown = new LinkedHashSet<>(values.keySet());
    unknown.removeAll(read);
    if (!unknown.isEmpty()) {
      throw new InvalidInputException(
          spec, "unknown option(s) " + unknown, "this data source understands " + read);
    }
  }
}

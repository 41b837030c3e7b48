package io.quantguard.evaluate;

import io.quantguard.onnx.InvalidInputException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The options of a task spec ({@code classification?k=5&output=logits}), read with typed getters.
 * Every key a task does not read is reported as an error by {@link #rejectUnknown}.
 */
public final class TaskOptions {
  private final String spec;
  private final Map<String, String> values;
  private final Set<String> read = new LinkedHashSet<>();

  public TaskOptions(String spec, Map<String, String> values) {
    this.spec = spec;
    this.values = new LinkedHashMap<>(values);
  }

  /** The spec as the user wrote it, for messages. */
  public String spec() {
    return spec;
  }

  public String string(String key, String def) {
    String v = string(key);
    return v == null ? def : v;
  }

  /** The option's value, or null when it is absent or blank. */
  public @Nullable String string(String key) {
    read.add(key);
    String v = values.get(key);
    return v == null || v.isBlank() ? null : v.trim();
  }

  public int integer(String key, int def, int min) {
    String v = string(key);
    if (v == null) {
      return def;
    }
    try {
      int n = Integer.parseInt(v);
      if (n < min) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new InvalidInputException(
          spec, "option " + key + "=" + v + " is not a whole number ≥ " + min, "fix the number");
    }
  }

  /** A number in [0, 1]; a percentage ({@code 10%}) is divided by 100. */
  public double fraction(String key, double def) {
    String v = string(key);
    if (v == null) {
      return def;
    }
    boolean percent = v.endsWith("%");
    try {
      double d = Double.parseDouble(percent ? v.substring(0, v.length() - 1).trim() : v);
      if (percent) {
        d /= 100;
      }
      if (!(d >= 0 && d <= 1)) {
        throw new NumberFormatException();
      }
      return d;
    } catch (NumberFormatException e) {
      throw new InvalidInputException(
          spec,
          "option " + key + "=" + v + " is not a fraction in [0, 1]",
          "write e.g. " + key + "=0.1 or " + key + "=10%");
    }
  }

  /** One of the allowed words (case-sensitive, as documented). */
  public String choice(String key, String def, String... allowed) {
    String v = string(key, def);
    if (!Arrays.asList(allowed).contains(v)) {
      throw new InvalidInputException(
          spec,
          "option " + key + "=" + v + " is not one of " + Arrays.toString(allowed),
          "pick one");
    }
    return v;
  }

  /** A comma-separated list; empty when absent. */
  public List<String> list(String key) {
    String v = string(key);
    List<String> out = new ArrayList<>();
    if (v != null) {
      for (String s : v.split(",")) {
        if (!s.isBlank()) {
          out.add(s.trim());
        }
      }
    }
    return out;
  }

  /** Fails on any option nobody read. */
  public void rejectUnknown() {
    Set<String> unknown = new LinkedHashSet<>(values.keySet());
    unknown.removeAll(read);
    if (!unknown.isEmpty()) {
      throw new InvalidInputException(
          spec,
          "unknown option(s) " + unknown,
          read.isEmpty() ? "this task takes no options" : "this task understands " + read);
    }
  }
}

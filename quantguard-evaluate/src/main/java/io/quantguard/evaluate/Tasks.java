package io.quantguard.evaluate;

import io.quantguard.onnx.InvalidInputException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * Finds tasks by name among the {@link TaskFactory} implementations on the class path and parses
 * task specs: {@code NAME[?key=value&key=value...]}, the same shape as data specs.
 */
public final class Tasks {
  private Tasks() {}

  /** Every registered task, by name, with its one-line description. */
  public static Map<String, String> available() {
    Map<String, String> out = new TreeMap<>();
    for (TaskFactory f : ServiceLoader.load(TaskFactory.class, Tasks.class.getClassLoader())) {
      out.put(f.name(), f.description());
    }
    return out;
  }

  /** Parses {@code NAME?options} into a task; unknown names and unknown options are errors. */
  public static Task<?> parse(String spec) {
    if (spec == null || spec.isBlank()) {
      throw InvalidInputException.forParameter(
          "evaluation.task",
          null,
          "is empty",
          "name a task: " + String.join(", ", available().keySet()));
    }
    int q = spec.indexOf('?');
    String name = (q < 0 ? spec : spec.substring(0, q)).trim();
    Map<String, String> options = new LinkedHashMap<>();
    if (q >= 0) {
      for (String kv : spec.substring(q + 1).split("&")) {
        if (kv.isEmpty()) {
          continue;
        }
        int eq = kv.indexOf('=');
        if (eq <= 0) {
          throw new InvalidInputException(
              spec, "option '" + kv + "' has no value", "write key=value");
        }
        options.put(
            kv.substring(0, eq), URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    for (TaskFactory f : ServiceLoader.load(TaskFactory.class, Tasks.class.getClassLoader())) {
      if (f.name().equals(name)) {
        TaskOptions o = new TaskOptions(spec, options);
        Task<?> task = f.create(o);
        o.rejectUnknown();
        return task;
      }
    }
    throw new InvalidInputException(
        spec,
        "is not a known task",
        "use one of " + String.join(", ", available().keySet()) + " (or register a TaskFactory)");
  }
}

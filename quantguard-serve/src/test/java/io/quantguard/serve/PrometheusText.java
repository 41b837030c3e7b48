package io.quantguard.serve;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks Prometheus' text exposition format: with {@code promtool check metrics} where Prometheus
 * is installed (Debian's {@code prometheus} package), and always against the format's grammar:
 * every sample line is {@code name{label="value",...} number}, its family has a {@code # TYPE} line
 * before it, and every histogram has its {@code +Inf} bucket.
 */
final class PrometheusText {
  private static final Pattern SAMPLE =
      Pattern.compile(
          "([a-zA-Z_:][a-zA-Z0-9_:]*)"
              + "(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\.)*\""
              + "(?:,[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\.)*\")*\\})?"
              + " (-?[0-9.]+(?:[eE][-+]?[0-9]+)?|NaN|[+-]Inf)");
  private static final Pattern TYPE =
      Pattern.compile(
          "# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)");

  private PrometheusText() {}

  static void check(String text, Path tmp) throws IOException, InterruptedException {
    Set<String> typed = new HashSet<>();
    Set<String> histograms = new HashSet<>();
    Set<String> infBuckets = new HashSet<>();
    for (String line : text.split("\n")) {
      if (line.startsWith("# HELP ") || line.isEmpty()) {
        continue;
      }
      Matcher t = TYPE.matcher(line);
      if (t.matches()) {
        assertThat(typed.add(t.group(1))).as("TYPE twice for %s", t.group(1)).isTrue();
        if (t.group(2).equals("histogram")) {
          histograms.add(t.group(1));
        }
        continue;
      }
      Matcher s = SAMPLE.matcher(line);
      assertThat(s.matches()).as("not a sample line: %s", line).isTrue();
      String name = s.group(1);
      String family = name.replaceAll("_(bucket|sum|count)$", "");
      assertThat(typed.contains(name) || typed.contains(family))
          .as("no # TYPE before %s", line)
          .isTrue();
      if (name.endsWith("_bucket") && line.contains("le=\"+Inf\"")) {
        infBuckets.add(family);
      }
    }
    assertThat(infBuckets).containsAll(histograms);
    Path promtool = Path.of("/usr/bin/promtool");
    if (Files.isExecutable(promtool)) {
      Path file = tmp.resolve("metrics.txt");
      Files.writeString(file, text, StandardCharsets.UTF_8);
      Process p =
          new ProcessBuilder(promtool.toString(), "check", "metrics")
              .redirectInput(file.toFile())
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as("promtool check metrics: %s", out).isZero();
    }
  }

  /**
   * The value of the one sample of {@code name} whose labels include {@code labels}; fails when
   * there is none or more than one.
   */
  static double value(String text, String name, java.util.Map<String, String> labels) {
    java.util.List<Double> found = new java.util.ArrayList<>();
    for (String line : text.split("\n")) {
      Matcher s = SAMPLE.matcher(line);
      if (!s.matches() || !s.group(1).equals(name)) {
        continue;
      }
      String set = s.group(2) == null ? "" : s.group(2);
      boolean all =
          labels.entrySet().stream()
              .allMatch(e -> set.contains(e.getKey() + "=\"" + e.getValue() + "\""));
      if (all) {
        found.add(Double.parseDouble(s.group(3)));
      }
    }
    assertThat(found).as("samples of %s%s", name, labels).hasSize(1);
    return found.get(0);
  }
}

package io.quantguard.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.InvalidInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Reading policies: limits, percentages, options, and every mistake named where it is. */
class PolicyTest {
  private static Policy parse(String yaml) {
    return Policy.parse(yaml, "policies/strict.yaml");
  }

  @Test
  void readsTheDocumentedExample() {
    Policy p =
        parse(
            """
            rules:
              accuracy: {max_drop: 0.005}            # absolute drop vs baseline (0.5 pt)
              macro_f1: {max_drop_relative: 1%, per_slice: true}
              flip_rate: {max: 2%}
              cosine_mean: {min: 0.99}
              latency_p95: {max_ratio: 0.7}          # candidate / baseline
              size: {max_ratio: 0.3}
            """);
    assertThat(p.name()).as("the file name without extension").isEqualTo("strict");
    assertThat(p.source()).isEqualTo("policies/strict.yaml");
    assertThat(p.rules())
        .extracting(Rule::metric)
        .containsExactly("accuracy", "macro_f1", "flip_rate", "cosine_mean", "latency_p95", "size");
    assertThat(p.rules().get(0).limit()).isEqualTo(new Limit(Limit.Kind.MAX_DROP, 0.005, "0.005"));
    assertThat(p.rules().get(1).limit())
        .isEqualTo(new Limit(Limit.Kind.MAX_DROP_RELATIVE, 0.01, "1%"));
    assertThat(p.rules().get(1).perSlice()).isTrue();
    assertThat(p.rules().get(0).perSlice()).isFalse();
    assertThat(p.rules().get(2).limit()).isEqualTo(new Limit(Limit.Kind.MAX, 0.02, "2%"));
    assertThat(p.rules().get(3).limit()).isEqualTo(new Limit(Limit.Kind.MIN, 0.99, "0.99"));
    assertThat(p.rules().get(4).limit()).isEqualTo(new Limit(Limit.Kind.MAX_RATIO, 0.7, "0.7"));
    assertThat(p.rules())
        .allSatisfy(
            r -> {
              assertThat(r.use()).isEqualTo(Rule.Use.ESTIMATE);
              assertThat(r.minSamples()).isEqualTo(Rule.DEFAULT_MIN_SAMPLES);
            });
    assertThat(p.rules().get(1).describe()).isEqualTo("macro_f1 max_drop_relative 1% per slice");
  }

  @Test
  void theExampleInReportMdParses() throws Exception {
    String doc = Files.readString(Path.of("REPORT.md"));
    int section = doc.indexOf("## Policies");
    assertThat(section).isPositive();
    int start = doc.indexOf("```yaml\n", section) + "```yaml\n".length();
    Policy p = Policy.parse(doc.substring(start, doc.indexOf("```", start)), "REPORT.md");
    assertThat(p.name()).isEqualTo("release");
    assertThat(p.rules())
        .extracting(Rule::describe)
        .containsExactly(
            "accuracy max_drop 0.5%",
            "macro_f1 max_drop_relative 1% per slice",
            "flip_rate max 2%",
            "ece max_drop 0.01 (worst bound)",
            "latency_p95 max_ratio 0.7",
            "size max_ratio 0.3",
            "top5_accuracy min 0.99",
            "top5_accuracy max_drop 2% per slice");
    assertThat(p.rules().get(7).minSamples()).isEqualTo(100);
  }

  @Test
  void percentStringsAreHundredthsWhereverNumbersAre() {
    Policy p =
        parse(
            """
            name: percentages
            rules:
              accuracy: {max_drop: "0.5 %", min: 90%}
              ece: {max: '1.5%'}
              throughput: {min_ratio: 120%}
              top5_accuracy: {max_drop: 1e-3}
            """);
    assertThat(p.name()).isEqualTo("percentages");
    assertThat(p.rules()).hasSize(5);
    assertThat(p.rules().get(0).limit().threshold()).isEqualTo(0.005);
    assertThat(p.rules().get(0).limit().text()).isEqualTo("0.5 %");
    assertThat(p.rules().get(1).limit().kind()).isEqualTo(Limit.Kind.MIN);
    assertThat(p.rules().get(1).limit().threshold()).isEqualTo(0.9);
    assertThat(p.rules().get(2).limit().threshold()).isEqualTo(0.015);
    assertThat(p.rules().get(3).limit().threshold()).isEqualTo(1.2);
    assertThat(p.rules().get(4).limit().threshold()).isEqualTo(0.001);
  }

  @Test
  void oneMetricCanCarrySeveralLimitsAndAListOfRules() {
    Policy p =
        parse(
            """
            rules:
              accuracy:
                - {max_drop: 0.5%}
                - {max_drop: 2%, per_slice: true, min_samples: 100, use: worst_bound}
              flip_rate: {max: 2%, min: 0}
            """);
    assertThat(p.rules()).hasSize(4);
    Rule slices = p.rules().get(1);
    assertThat(slices.perSlice()).isTrue();
    assertThat(slices.minSamples()).isEqualTo(100);
    assertThat(slices.use()).isEqualTo(Rule.Use.WORST_BOUND);
    assertThat(slices.describe()).isEqualTo("accuracy max_drop 2% per slice (worst bound)");
    assertThat(p.rules().subList(2, 4))
        .extracting(r -> r.limit().key())
        .as("limits of one mapping, as written")
        .containsExactly("max", "min");
  }

  @Test
  void unknownKeysAreErrorsThatNameTheKeyAndTheValidOnes() {
    assertThatThrownBy(() -> parse("rule:\n  accuracy: {max_drop: 1%}\n"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("policies/strict.yaml")
        .hasMessageContaining("unknown policy key 'rule' at the top level")
        .hasMessageContaining("valid keys there: name, rules");
    assertThatThrownBy(() -> parse("rules:\n  accuracy: {max_dorp: 1%}\n"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("unknown policy key 'max_dorp' at rules.accuracy")
        .hasMessageContaining("max_drop_relative")
        .hasMessageContaining("per_slice");
    assertThatThrownBy(() -> parse("rules:\n  accuracy: [{max_drop: 1%}, {per_slices: true}]\n"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("'per_slices' at rules.accuracy[1]");
  }

  @Test
  void badValuesAreErrorsThatSayWhatToWrite() {
    assertThatThrownBy(() -> parse("rules:\n  accuracy: {max_drop: 0.5pt}\n"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("rules.accuracy.max_drop is '0.5pt', not a number or a percentage")
        .hasMessageContaining("0.5%");
    assertThatThrownBy(() -> parse("rules:\n  accuracy: {max_drop: [1]}\n"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("rules.accuracy.max_drop must be a number or a percentage");
    assertThatThrownBy(() -> parse("rules:\n  size: {max_ratio: 0}\n"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("rules.size.max_ratio must be a positive ratio");
    assertThatThrownBy(() -> parse("rules:\n  accuracy: {per_slice: true}\n"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("rules.accuracy has no limit")
        .hasMessageContaining("max_drop");
    assertThatThrownBy(() -> parse("rules:\n  accuracy: {max_drop: 1%, per_slice: 'yes'}\n"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("rules.accuracy.per_slice must be true or false");
    assertThatThrownBy(() -> parse("rules:\n  accuracy: {max_drop: 1%, use: best}\n"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("rules.accuracy.use is 'best'")
        .hasMessageContaining("worst_bound");
    assertThatThrownBy(() -> parse("rules:\n  accuracy: {max_drop: 1%, min_samples: 0}\n"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("min_samples");
    assertThatThrownBy(() -> parse("rules:\n  accuracy: 0.5%\n"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("rules.accuracy must be a mapping of limits");
  }

  @Test
  void emptyMalformedOrAmbiguousFilesAreErrors() {
    for (String bad : List.of("", "# nothing\n", "- accuracy\n", "name: x\n", "rules: {}\n")) {
      assertThatThrownBy(() -> parse(bad))
          .as(bad)
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("policies/strict.yaml");
    }
    assertThatThrownBy(() -> parse("rules:\n  accuracy: {max_drop: 1%\n"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("is not valid YAML");
    assertThatThrownBy(
            () -> parse("rules:\n  accuracy: {max_drop: 1%}\n  accuracy: {max_drop: 5%}\n"))
        .as("a repeated metric would silently drop one of the limits")
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("accuracy");
  }
}

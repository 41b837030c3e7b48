package io.quantguard.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.Mutations;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Seeded mutation fuzzing of the policy language, seeded with every policy the repository ships:
 * each damaged policy either parses (and then describes every rule) or fails with an {@link
 * InvalidInputException} that names it; no other exception, no hang.
 */
class PolicyFuzzTest {
  private static final int ROUNDS = Mutations.rounds(3000);

  @Test
  void mutatedPoliciesParseOrFailNamingThePolicy() throws Exception {
    List<String> seeds = new ArrayList<>();
    try (Stream<Path> files = Files.walk(Path.of(".."), 3)) {
      for (Path p :
          files
              .filter(f -> f.toString().matches(".*/(policies/[^/]+|examples/[^/]+/policy)\\.yaml"))
              .sorted()
              .toList()) {
        seeds.add(Files.readString(p));
      }
    }
    assertThat(seeds).as("the shipped policies").hasSizeGreaterThanOrEqualTo(3);
    Random r = new Random(20261202L);
    int[] outcomes = new int[2];
    List<String> failures = new ArrayList<>();
    assertTimeoutPreemptively(
        Duration.ofMinutes(2L * Math.max(1, ROUNDS / 3000)),
        () -> {
          for (int i = 0; i < ROUNDS; i++) {
            String text = Mutations.text(seeds.get(r.nextInt(seeds.size())), r);
            String name = "fuzz#" + i;
            try {
              Policy p = Policy.parse(text, name);
              p.rules().forEach(Rule::describe);
              outcomes[0]++;
            } catch (InvalidInputException e) {
              if (!e.getMessage().contains(name)) {
                failures.add(name + ": message does not name the policy: " + e.getMessage());
              }
              outcomes[1]++;
            } catch (RuntimeException e) {
              failures.add(name + ": " + e + "\n---\n" + text + "\n---");
            }
          }
        });
    assertThat(failures).as("failures (first shown)").isEmpty();
    assertThat(outcomes[0]).as("mutants that parse").isPositive();
    assertThat(outcomes[1]).as("mutants refused").isPositive();
  }
}

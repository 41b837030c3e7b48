package io.quantguard.quantize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.Mutations;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Seeded mutation fuzzing of recipes, seeded with every recipe the repository ships: each damaged
 * recipe either parses, resolves, survives a YAML round trip unchanged and plans the CNN, or fails
 * with an {@link InvalidInputException}; no other exception, no hang.
 */
class RecipeFuzzTest {
  private static final int ROUNDS = Mutations.rounds(3000);

  /** Recipes that resolve also plan the CNN, the first this many (a plan runs the model once). */
  private static final int PLANS = 40;

  @Test
  void mutatedRecipesResolveOrFailCleanly() throws Exception {
    List<String> seeds = new ArrayList<>();
    try (Stream<Path> files = Files.list(Path.of("..", "recipes"))) {
      for (Path p : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        seeds.add(Files.readString(p));
      }
    }
    assertThat(seeds).as("the shipped recipes").hasSizeGreaterThanOrEqualTo(3);
    seeds.add("mode: dynamic\n");
    seeds.add("mode: weight-only\nweights: {type: uint4, block_size: 32}\n");
    seeds.add("mode: fp16\nexclude: ['/c1/']\n");
    OnnxModel cnn = ModelIO.load(TestModels.fashionCnn());
    Random r = new Random(20261202L);
    int[] outcomes = new int[3];
    List<String> failures = new ArrayList<>();
    assertTimeoutPreemptively(
        Duration.ofMinutes(3L * Math.max(1, ROUNDS / 3000)),
        () -> {
          for (int i = 0; i < ROUNDS; i++) {
            String text = Mutations.text(seeds.get(r.nextInt(seeds.size())), r);
            String name = "fuzz#" + i;
            try {
              Recipe resolved = RecipeIO.parse(text, name).resolved();
              Recipe again = RecipeIO.parse(RecipeIO.toYaml(resolved), name + " again").resolved();
              if (!again.equals(resolved)) {
                failures.add(name + ": the YAML round trip changed the recipe\n" + text);
              }
              outcomes[0]++;
              if (outcomes[0] <= PLANS) {
                Quantizer.plan(cnn, resolved, null, Quantizer.Options.defaults());
                outcomes[2]++;
              }
            } catch (InvalidInputException e) {
              outcomes[1]++;
            } catch (RuntimeException e) {
              failures.add(name + ": " + e + "\n---\n" + text + "\n---");
            }
          }
        });
    assertThat(failures).as("failures").isEmpty();
    assertThat(outcomes[0]).as("mutants that resolve").isPositive();
    assertThat(outcomes[1]).as("mutants refused").isPositive();
  }
}

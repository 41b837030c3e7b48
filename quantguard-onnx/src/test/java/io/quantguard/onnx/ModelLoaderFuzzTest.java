package io.quantguard.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.file.Files;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Seeded mutation fuzzing of the loader: thousands of damaged model files must each either load
 * (and then survive a summary and a re-serialization) or fail with {@link InvalidModelException};
 * no other exception, no hang.
 */
class ModelLoaderFuzzTest {
  /** 3,000 in the build; {@code -Dquantguard.fuzz.rounds=100000} for a nightly-size run. */
  private static final int ROUNDS = Mutations.rounds(3000);

  @Test
  void mutatedModelsFailCleanly() throws Exception {
    byte[] seed = Files.readAllBytes(TestModels.fashionCnn());
    Random r = new Random(20261127L);
    int[] outcomes = new int[2];
    assertTimeoutPreemptively(
        Duration.ofMinutes(3L * Math.max(1, ROUNDS / 3000)),
        () -> {
          for (int i = 0; i < ROUNDS; i++) {
            byte[] mutated = Mutations.bytes(seed, r);
            try {
              OnnxModel m = ModelIO.load(mutated, "fuzz#" + i);
              ModelSummary.of(m);
              ModelIO.toBytes(m);
              outcomes[0]++;
            } catch (InvalidModelException e) {
              assertThat(e.getMessage()).startsWith("fuzz#" + i);
              outcomes[1]++;
            }
          }
        });
    // Both outcomes must occur, or the mutations are too weak (or too strong) to test anything.
    assertThat(outcomes[0]).isPositive();
    assertThat(outcomes[1]).isPositive();
  }
}

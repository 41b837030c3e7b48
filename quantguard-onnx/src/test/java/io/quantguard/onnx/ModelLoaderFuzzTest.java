package io.quantguard.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.file.Files;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Seeded mutation fuzzing of the loader: thousands of damaged model files must each either load
 * (and then survive a summary and a re-serialization) or fail with {@link InvalidModelException};
 * no other exception, no hang.
 */
class ModelLoaderFuzzTest {
  private static final int ROUNDS = 3000;

  @Test
  void mutatedModelsFailCleanly() throws Exception {
    byte[] seed = Files.readAllBytes(TestModels.fashionCnn());
    Random r = new Random(20261127L);
    int[] outcomes = new int[2];
    assertTimeoutPreemptively(
        Duration.ofMinutes(3),
        () -> {
          for (int i = 0; i < ROUNDS; i++) {
            byte[] mutated = mutate(seed, r);
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

  private static byte[] mutate(byte[] seed, Random r) {
    byte[] b;
    switch (r.nextInt(6)) {
      case 0 -> { // flip a few bytes in the structural head of the file
        b = seed.clone();
        for (int k = 0, n = 1 + r.nextInt(8); k < n; k++) {
          int at = r.nextInt(Math.min(b.length, 4096));
          b[at] = (byte) r.nextInt(256);
        }
      }
      case 1 -> { // flip bytes anywhere
        b = seed.clone();
        for (int k = 0, n = 1 + r.nextInt(32); k < n; k++) {
          b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
        }
      }
      case 2 -> b = Arrays.copyOf(seed, r.nextInt(seed.length)); // truncate
      case 3 -> { // random bytes of random length
        b = new byte[r.nextInt(2048)];
        r.nextBytes(b);
      }
      case 4 -> { // cut out a slice
        int from = r.nextInt(seed.length);
        int len = Math.min(seed.length - from, 1 + r.nextInt(512));
        b = new byte[seed.length - len];
        System.arraycopy(seed, 0, b, 0, from);
        System.arraycopy(seed, from + len, b, from, seed.length - from - len);
      }
      default -> { // duplicate a slice of the head
        int from = r.nextInt(Math.min(seed.length, 2048));
        int len = 1 + r.nextInt(256);
        b = new byte[seed.length + len];
        System.arraycopy(seed, 0, b, 0, from + len);
        System.arraycopy(seed, from, b, from + len, seed.length - from);
      }
    }
    return b;
  }
}

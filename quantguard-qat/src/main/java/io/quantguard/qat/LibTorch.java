package io.quantguard.qat;

import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import io.quantguard.onnx.InvalidInputException;

/**
 * Starts the training engine, libtorch, for whoever trains: the {@code qat} command and the
 * workflow's {@code qat} approach. The catch of DJL's {@code EngineException} lives here, not in
 * their classes: the JVM resolves a catch clause's type when it verifies a class, so a command that
 * caught it itself would need DJL on the class path for every command (the gate runs without it).
 */
public final class LibTorch {
  private LibTorch() {}

  /**
   * Starts libtorch offline (DJL's start-up otherwise tries a telemetry connection), with a clear
   * error where it is not on the class path.
   */
  public static void start() {
    System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
    try {
      Engine.getEngine("PyTorch");
    } catch (EngineException | IllegalArgumentException | IllegalStateException e) {
      throw new InvalidInputException(
          "libtorch",
          "cannot be loaded for quantization-aware training: " + e.getMessage(),
          "put ai.djl.pytorch:pytorch-native-cpu on the class path (the quantguard launcher adds it"
              + " for qat and run; quantguard-cli/target/classpath-qat.txt names the jar)");
    }
  }

  /** Whether libtorch loads here; loading it costs a second or two the first time. */
  public static boolean loads() {
    try {
      start();
      return true;
    } catch (InvalidInputException e) {
      return false;
    }
  }
}

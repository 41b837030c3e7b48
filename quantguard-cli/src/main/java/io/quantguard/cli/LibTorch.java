package io.quantguard.cli;

import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import io.quantguard.onnx.InvalidInputException;

/**
 * The one place the command line touches DJL's engine classes. Kept out of {@link QatCommand}: the
 * JVM verifies a class's catch clauses when picocli reflects on it, so a command that caught DJL's
 * {@code EngineException} itself would make every command (gate included) need DJL on the class
 * path.
 */
final class LibTorch {
  private LibTorch() {}

  /**
   * Starts libtorch offline (DJL's start-up otherwise tries a telemetry connection), with a clear
   * error where the launcher did not put it on the class path.
   */
  static void start() {
    System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
    try {
      Engine.getEngine("PyTorch");
    } catch (EngineException | IllegalArgumentException | IllegalStateException e) {
      throw new InvalidInputException(
          "libtorch",
          "cannot be loaded: " + e.getMessage(),
          "run through the `quantguard` launcher, which adds ai.djl.pytorch:pytorch-native-cpu for"
              + " `qat` (see quantguard-cli/target/classpath-qat.txt), or put that jar on the class"
              + " path");
    }
  }
}

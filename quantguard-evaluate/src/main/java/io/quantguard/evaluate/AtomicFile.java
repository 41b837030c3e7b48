package io.quantguard.evaluate;

import io.quantguard.onnx.InvalidInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Writes a text file through a temporary file and a rename, so no reader sees half of it. */
final class AtomicFile {
  private AtomicFile() {}

  static Path write(Path target, String content) {
    Path abs = target.toAbsolutePath();
    try {
      Files.createDirectories(abs.getParent());
      Path tmp = Files.createTempFile(abs.getParent(), abs.getFileName().toString(), ".part");
      try {
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new InvalidInputException(
          target.toString(), "cannot be written: " + e.getMessage(), "check the path", e);
    }
    return target;
  }
}

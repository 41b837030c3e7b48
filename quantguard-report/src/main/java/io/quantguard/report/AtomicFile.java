package io.quantguard.report;

import io.quantguard.onnx.InvalidInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Writes a text file through a temporary file and a rename, so no reader sees half of it and a
 * failed write leaves the previous file as it was. The file ends up readable like one written in
 * place (rw-r--r--), not with the owner-only mode temporary files are created with.
 */
public final class AtomicFile {
  private AtomicFile() {}

  /**
   * @throws InvalidInputException when the file cannot be written (the message names it)
   */
  public static Path write(Path target, String content) {
    Path abs = target.toAbsolutePath();
    try {
      Files.createDirectories(abs.getParent());
      Path tmp = shareable(Files.createTempFile(abs.getParent(), "." + abs.getFileName(), ".part"));
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

  /** Gives a temporary file the mode of a file written in place (rw-r--r--) where POSIX allows. */
  public static Path shareable(Path tmp) throws IOException {
    try {
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: its defaults apply
    }
    return tmp;
  }
}

package io.quantguard.tune;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import org.jspecify.annotations.Nullable;

/** Removing the temporary and half-made directories tuning and sensitivity analysis leave. */
final class Directories {
  private Directories() {}

  /** Deletes a directory and everything below it; what cannot be deleted stays. */
  static void deleteTree(@Nullable Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // a directory left behind is harmless; the caller's own outcome matters more
    }
  }
}

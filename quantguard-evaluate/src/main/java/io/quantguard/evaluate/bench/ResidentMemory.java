package io.quantguard.evaluate.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * The process's resident set size as Linux reports it in {@code /proc/self/status}: {@code VmRSS}
 * (now) and {@code VmHWM} (the high-water mark, the peak since start or since the last reset). RSS
 * is what the operating system and a container limit see: Java heap, ONNX Runtime's native
 * allocations and the mapped model all count. Elsewhere the readings are empty.
 */
public final class ResidentMemory {
  private static final Path STATUS = Path.of("/proc/self/status");
  private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

  private ResidentMemory() {}

  /** {@code VmRSS} in bytes. */
  public static OptionalLong rss() {
    return read("VmRSS");
  }

  /** {@code VmHWM} in bytes: the peak RSS since start or since {@link #resetPeak}. */
  public static OptionalLong peak() {
    return read("VmHWM");
  }

  /**
   * Resets {@code VmHWM} to the current RSS (writing {@code 5} to {@code /proc/self/clear_refs},
   * Linux 4.0+), so the next {@link #peak} is the peak of what ran in between.
   *
   * @return whether the reset worked
   */
  public static boolean resetPeak() {
    try {
      Files.writeString(CLEAR_REFS, "5");
      return true;
    } catch (IOException | SecurityException | UnsupportedOperationException e) {
      return false;
    }
  }

  private static OptionalLong read(String field) {
    try {
      return Files.isReadable(STATUS)
          ? parse(Files.readString(STATUS), field)
          : OptionalLong.empty();
    } catch (IOException e) {
      return OptionalLong.empty();
    }
  }

  /** A {@code Field: 123 kB} line of {@code /proc/PID/status}, in bytes. */
  static OptionalLong parse(String status, String field) {
    for (String line : status.split("\n")) {
      if (line.startsWith(field + ":")) {
        String[] parts = line.substring(field.length() + 1).trim().split("\\s+");
        long v = Long.parseLong(parts[0]);
        return OptionalLong.of(parts.length > 1 && parts[1].equalsIgnoreCase("kB") ? v * 1024 : v);
      }
    }
    return OptionalLong.empty();
  }
}

package io.quantguard.evaluate;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What this process costs: resident memory from {@code /proc/self/status} (VmRSS now, VmHWM the
 * peak since start — native ONNX Runtime memory included, which the Java heap figures miss) and CPU
 * time of all its threads, ONNX Runtime's native threads included.
 */
final class ProcessStats {
  /** The platform bean; looking it up costs more than reading it, and it never changes. */
  private static final java.lang.management.OperatingSystemMXBean OS =
      ManagementFactory.getOperatingSystemMXBean();

  private ProcessStats() {}

  /** Peak resident set size in bytes, or -1 where /proc is unavailable. */
  static long peakRssBytes() {
    return status("VmHWM:");
  }

  static long rssBytes() {
    return status("VmRSS:");
  }

  /** CPU time of the whole process in nanoseconds, or -1 when the JVM cannot tell. */
  static long cpuNanos() {
    if (OS instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return ProcessHandle.current().info().totalCpuDuration().map(d -> d.toNanos()).orElse(-1L);
  }

  private static long status(String key) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(key)) {
          return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }
}

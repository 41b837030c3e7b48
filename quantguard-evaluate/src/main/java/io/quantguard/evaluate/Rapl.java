package io.quantguard.evaluate;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Intel RAPL (running average power limit) package energy counters, as Linux exposes them under
 * {@code /sys/class/powercap/intel-rapl:N/energy_uj} (microjoules, wrapping at {@code
 * max_energy_range_uj}). Only top-level package domains are summed; their sub-domains (cores,
 * uncore, DRAM: {@code intel-rapl:N:M}) are parts of them. Counters measure the whole package, so
 * other load on the machine is counted too. Often unreadable without privileges or in containers;
 * then {@link #open} finds nothing and the caller estimates.
 */
final class Rapl {
  private final List<Path> counters;
  private final long[] ranges;
  private final long[] last;
  private double joules;

  private Rapl(List<Path> counters, long[] ranges) {
    this.counters = counters;
    this.ranges = ranges;
    this.last = new long[counters.size()];
    for (int i = 0; i < last.length; i++) {
      last[i] = read(counters.get(i));
    }
  }

  /** The readable package counters under {@code root} (normally /sys/class/powercap). */
  static Optional<Rapl> open(Path root) {
    List<Path> found = new ArrayList<>();
    List<Long> ranges = new ArrayList<>();
    if (!Files.isDirectory(root)) {
      return Optional.empty();
    }
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, "intel-rapl:*")) {
      for (Path d : dirs) {
        String name = d.getFileName().toString();
        Path energy = d.resolve("energy_uj");
        if (name.indexOf(':') != name.lastIndexOf(':') || !Files.isReadable(energy)) {
          continue;
        }
        if (read(energy) < 0) {
          continue;
        }
        found.add(energy);
        long range = read(d.resolve("max_energy_range_uj"));
        ranges.add(range > 0 ? range : Long.MAX_VALUE);
      }
    } catch (IOException e) {
      return Optional.empty();
    }
    if (found.isEmpty()) {
      return Optional.empty();
    }
    found.sort(null);
    return Optional.of(new Rapl(found, ranges.stream().mapToLong(Long::longValue).toArray()));
  }

  /** Joules consumed by all packages since {@link #open}, unwrapping counter overflows. */
  double joules() {
    for (int i = 0; i < counters.size(); i++) {
      long now = read(counters.get(i));
      if (now < 0) {
        continue;
      }
      long d = now - last[i];
      if (d < 0) {
        d += ranges[i];
      }
      joules += d / 1e6;
      last[i] = now;
    }
    return joules;
  }

  private static long read(Path p) {
    try {
      return Long.parseLong(Files.readString(p).trim());
    } catch (IOException | NumberFormatException | SecurityException e) {
      return -1;
    }
  }
}

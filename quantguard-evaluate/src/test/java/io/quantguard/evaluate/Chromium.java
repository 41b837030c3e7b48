package io.quantguard.evaluate;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Headless Chromium (Debian's {@code chromium}) taking a screenshot of a local page. */
final class Chromium {
  private Chromium() {}

  static Optional<Path> binary() {
    for (String p :
        List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")) {
      if (Files.isExecutable(Path.of(p))) {
        return Optional.of(Path.of(p));
      }
    }
    return Optional.empty();
  }

  /**
   * Renders {@code page} at 1400×height and writes a PNG; returns the process's output on failure.
   */
  static void screenshot(Path chromium, Path page, Path png, int height)
      throws IOException, InterruptedException {
    Path profile = Files.createTempDirectory("quantguard-chromium");
    Process p =
        new ProcessBuilder(
                chromium.toString(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--user-data-dir=" + profile,
                "--virtual-time-budget=5000",
                "--screenshot=" + png.toAbsolutePath(),
                "--window-size=1400," + height,
                page.toAbsolutePath().toUri().toString())
            .redirectErrorStream(true)
            .redirectOutput(profile.resolve("chromium.log").toFile())
            .start();
    try {
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("chromium did not finish within 120 s");
      }
      if (!Files.isRegularFile(png)) {
        throw new IOException(
            "chromium wrote no screenshot (exit "
                + p.exitValue()
                + "): "
                + Files.readString(profile.resolve("chromium.log")));
      }
    } finally {
      try (Stream<Path> files = Files.walk(profile)) {
        files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }
}

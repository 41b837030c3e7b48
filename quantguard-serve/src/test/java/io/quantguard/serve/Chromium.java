package io.quantguard.serve;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Headless Chromium (Debian's {@code chromium}) loading a page of a running server. */
final class Chromium {
  private final Path binary;

  private Chromium(Path binary) {
    this.binary = binary;
  }

  static Optional<Chromium> find() {
    for (String p :
        List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")) {
      if (Files.isExecutable(Path.of(p))) {
        return Optional.of(new Chromium(Path.of(p)));
      }
    }
    return Optional.empty();
  }

  /** The DOM after {@code budgetMs} of virtual time (scripts, fetches and timers run). */
  String dumpDom(String url, int budgetMs) throws IOException, InterruptedException {
    return run(url, budgetMs, "--dump-dom");
  }

  /** Renders the page at 1400×{@code height} into {@code png}. */
  void screenshot(String url, int budgetMs, Path png, int height)
      throws IOException, InterruptedException {
    Files.deleteIfExists(png);
    String log =
        run(url, budgetMs, "--screenshot=" + png.toAbsolutePath(), "--window-size=1400," + height);
    if (!Files.isRegularFile(png)) {
      throw new IOException("chromium wrote no screenshot: " + log);
    }
  }

  private String run(String url, int budgetMs, String... extra)
      throws IOException, InterruptedException {
    Path profile = Files.createTempDirectory("quantguard-chromium");
    List<String> cmd =
        new ArrayList<>(
            List.of(
                binary.toString(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--user-data-dir=" + profile,
                "--virtual-time-budget=" + budgetMs));
    cmd.addAll(List.of(extra));
    cmd.add(url);
    Path out = profile.resolve("out.txt");
    Process p =
        new ProcessBuilder(cmd)
            .redirectOutput(out.toFile())
            .redirectError(profile.resolve("err.txt").toFile())
            .start();
    try {
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("chromium did not finish within 120 s");
      }
      return Files.readString(out, StandardCharsets.UTF_8);
    } finally {
      try (Stream<Path> files = Files.walk(profile)) {
        files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }
}

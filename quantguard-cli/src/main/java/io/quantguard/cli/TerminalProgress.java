package io.quantguard.cli;

import io.quantguard.runtime.Progress;
import java.io.PrintWriter;
import java.util.Locale;

/** A one-line progress bar on stderr, drawn only when a person is watching a terminal. */
public final class TerminalProgress implements Progress {
  private final PrintWriter err;
  private final long startNanos = System.nanoTime();
  private long lastDraw;
  private boolean drawn;

  private TerminalProgress(PrintWriter err) {
    this.err = err;
  }

  /** A bar on a terminal; silence when output is piped or captured (CI logs, --json). */
  public static Progress forTerminal(PrintWriter err, boolean quiet) {
    return quiet || System.console() == null ? Progress.NONE : new TerminalProgress(err);
  }

  @Override
  public void update(String stage, long done, long total) {
    long now = System.nanoTime();
    boolean finished = total > 0 && done >= total;
    if (!finished && now - lastDraw < 200_000_000L) {
      return;
    }
    lastDraw = now;
    double secs = (now - startNanos) / 1e9;
    String line;
    if (total > 0) {
      int width = 30;
      int filled = (int) (width * Math.min(1.0, done / (double) total));
      line =
          String.format(
              Locale.ROOT,
              "%-12s [%s%s] %d/%d  %.1fs",
              stage,
              "#".repeat(filled),
              " ".repeat(width - filled),
              done,
              total,
              secs);
    } else {
      line = String.format(Locale.ROOT, "%-12s %d  %.1fs", stage, done, secs);
    }
    err.print("\r" + line);
    err.flush();
    drawn = true;
    if (finished) {
      err.println();
      drawn = false;
    }
  }

  /** Ends the line if a bar is still on it. */
  public void finish() {
    if (drawn) {
      err.println();
    }
  }
}

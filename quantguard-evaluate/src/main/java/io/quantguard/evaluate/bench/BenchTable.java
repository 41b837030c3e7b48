package io.quantguard.evaluate.bench;

import io.quantguard.onnx.CpuFeatures;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/** A {@link BenchResult} as a plain-text table for a terminal or a pull request comment. */
public final class BenchTable {
  private BenchTable() {}

  public static String render(BenchResult r) {
    StringBuilder out = new StringBuilder();
    BenchResult.Environment e = r.environment();
    CpuFeatures cpu = e.cpu();
    line(out, "CPU       %s, %d logical cores", cpu.model(), cpu.logicalCores());
    line(out, "ISA       %s", cpu.flags().isEmpty() ? "unknown" : String.join(" ", cpu.flags()));
    line(out, "          %s", cpu.int8Note());
    line(
        out,
        "Runtime   QuantGuard %s, ONNX Runtime %s, Java %s, %s",
        e.run().quantguard(),
        e.run().onnxRuntime(),
        e.run().java(),
        e.run().os());
    line(out, "Session   %s (the same for every model)", e.sessionOptions());
    BenchResult.Settings s = r.settings();
    line(out, "Data      %s", s.data());
    line(
        out,
        "Method    %d warm-up pass(es) per model and batch size; %s per batch size, models"
            + " interleaved round-robin (first position rotating); %.0f %% interval of the median"
            + " per-round time ratio",
        s.warmupPasses(),
        s.durationSeconds() > 0
            ? fmt("rounds for %.0f s", s.durationSeconds())
            : s.trials() + " rounds",
        s.confidence() * 100);
    out.append('\n');

    List<BenchResult.ModelResult> models = r.models();
    int w = Math.max(5, models.stream().mapToInt(m -> m.label().length()).max().orElse(5));
    String head = "%-3s %-" + w + "s";
    line(
        out,
        head + " %10s %9s %9s %12s %12s  %s",
        "#",
        "model",
        "size",
        "session",
        "1st sess.",
        "peak RSS Δ",
        "steady RSS Δ",
        "quantized");
    for (int i = 0; i < models.size(); i++) {
      BenchResult.ModelResult m = models.get(i);
      line(
          out,
          head + " %10s %9s %9s %12s %12s  %s",
          i + 1,
          m.label(),
          bytes(m.sizeOnDisk()),
          fmt("%.0f ms", m.sessionCreationMs()),
          fmt("%.0f ms", m.firstSessionCreationMs()),
          signedBytes(m.memory().peakGrowth()),
          signedBytes(m.memory().steadyGrowth()),
          m.quantization());
    }
    for (BenchResult.Comparison c : r.comparisons()) {
      line(
          out,
          "    %s vs %s: size ×%.3f, session creation ×%.2f, peak RSS growth %s",
          c.model(),
          c.baseline(),
          c.sizeRatio(),
          c.sessionCreationRatio(),
          c.memoryRatio() == null ? "n/a" : fmt("×%.2f", c.memoryRatio()));
    }
    line(
        out,
        "    session: median of 3 creations after the first; memory: %s",
        models.get(0).memory().method());

    for (int bi = 0; bi < s.batchSizes().size(); bi++) {
      BenchResult.BatchResult first = models.get(0).batches().get(bi);
      out.append('\n');
      line(
          out,
          "batch %d  (%d batches per pass, %d pass(es) per trial, %d trials per model)",
          first.batchSize(),
          first.batchesPerPass(),
          first.passesPerTrial(),
          first.trials());
      line(
          out,
          head + " %9s %9s %9s %9s %11s  %-28s %s",
          "#",
          "model",
          "p50 ms",
          "p95 ms",
          "p99 ms",
          "mean ms",
          "samples/s",
          fmt("time ratio [%.0f%% CI]", s.confidence() * 100),
          "speed-up");
      for (int i = 0; i < models.size(); i++) {
        BenchResult.BatchResult b = models.get(i).batches().get(bi);
        String ratio = "1 (baseline)";
        String speedup = "";
        if (i > 0) {
          BenchResult.BatchComparison c = r.comparisons().get(i - 1).batches().get(bi);
          RatioInterval t = c.timeRatio();
          RatioInterval u = c.speedup();
          ratio = fmt("%.3f [%.3f, %.3f]", t.median(), t.low(), t.high());
          speedup =
              fmt("%.2f× [%.2f, %.2f]", u.median(), u.low(), u.high())
                  + (t.confidence() < s.confidence()
                      ? fmt(" (only %.0f %% coverage: few rounds)", t.confidence() * 100)
                      : "");
        }
        line(
            out,
            head + " %9.3f %9.3f %9.3f %9.3f %11.1f  %-28s %s",
            i + 1,
            models.get(i).label(),
            b.latency().p50Ms(),
            b.latency().p95Ms(),
            b.latency().p99Ms(),
            b.latency().meanMs(),
            b.throughput(),
            ratio,
            speedup);
      }
    }
    out.append('\n');
    line(
        out,
        "Process peak RSS %s (VmHWM). Timed: %s.",
        e.processPeakRss() == null ? "unknown" : bytes(e.processPeakRss()),
        s.timedRegion());
    return out.toString();
  }

  private static void line(StringBuilder out, String format, @Nullable Object... args) {
    out.append(String.format(Locale.ROOT, format, args).stripTrailing()).append('\n');
  }

  private static String fmt(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }

  /** Decimal units, as {@code inspect} prints sizes. */
  static String bytes(long n) {
    return io.quantguard.report.ByteUnits.format(n);
  }

  private static String signedBytes(@Nullable Long n) {
    if (n == null) {
      return "n/a";
    }
    return (n >= 0 ? "+" : "") + bytes(n);
  }
}

package io.quantguard.cli;

import io.quantguard.evaluate.bench.LatencyStats;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.data.DataSpec;
import io.quantguard.serve.LoadGenerator;
import io.quantguard.serve.RequestBody;
import java.io.PrintWriter;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code quantguard serve-bench}: closed-loop load (or, with {@code --rate}, load on a schedule) on
 * a running server's inference endpoint, at several client counts, with latency percentiles and
 * throughput.
 */
@Command(
    name = "serve-bench",
    description = {
      "Load a running server (quantguard serve, or any Open Inference Protocol v2 server) with N"
          + " concurrent closed-loop clients (or, with --rate, clients that send on a fixed"
          + " schedule) and report throughput and p50/p95/p99 latency.",
      "Requests are real samples from --data (cycled), or else random inputs shaped from the"
          + " model's metadata; run it once with the server batching and once with"
          + " --max-batch-size 1 to see what batching buys."
    })
final class ServeBenchCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  // No standard --version here: --version names a model version, as in the inference URL.
  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "show this help and exit")
  boolean help;

  @Parameters(paramLabel = "URL", description = "the server, e.g. http://127.0.0.1:8080")
  String url;

  @Option(names = "--model", required = true, description = "the model name")
  String model;

  @Option(names = "--version", description = "a version (default: the model's default)")
  @Nullable Integer version;

  @Option(
      names = "--clients",
      split = ",",
      defaultValue = "1,8,32",
      description = "concurrent clients, one run each (default: ${DEFAULT-VALUE})")
  List<Integer> clients;

  @Option(names = "--duration-s", defaultValue = "10", description = "measured seconds per run")
  double durationS;

  @Option(names = "--warmup-s", defaultValue = "2", description = "unmeasured seconds first")
  double warmupS;

  @Option(
      names = "--data",
      paramLabel = "DATASPEC",
      description =
          "real inputs, cycled, e.g. text:europarl?tokenizer=minilm-tokenizer&column=3"
              + "&max_length=128&limit=256 (default: random inputs; text models need real ones)")
  String data;

  @Option(
      names = "--rows",
      defaultValue = "1",
      description = "samples per request (batch dimension; default: ${DEFAULT-VALUE})")
  int rows;

  @Option(
      names = "--free-dim",
      defaultValue = "16",
      description =
          "size of other free dimensions, e.g. sequence length (default: ${DEFAULT-VALUE})")
  int freeDim;

  @Option(
      names = "--rate",
      paramLabel = "REQUESTS_PER_S",
      description =
          "send this many requests per second in all, on a fixed schedule (open loop), and count"
              + " each request's latency from when it was due: the latency at a given load, not"
              + " the throughput (default: closed loop, as fast as answered)")
  Double rate;

  @Option(names = "--binary", description = "send and receive binary tensor data, not JSON")
  boolean binary;

  @Option(names = "--json", description = "print JSON")
  boolean json;

  /**
   * Distinct requests read from --data: enough not to repeat within a short run, bounded memory.
   */
  private static final int MAX_DATA_REQUESTS = 4096;

  @Override
  public Integer call() {
    if (rate != null && !(rate > 0 && Double.isFinite(rate))) {
      throw new InvalidInputException(
          "--rate", "must be a positive number of requests per second", "e.g. --rate 500");
    }
    if (clients.stream().anyMatch(c -> c < 1) || durationS <= 0 || warmupS < 0 || rows < 1) {
      throw new InvalidInputException(
          "--clients/--duration-s/--warmup-s/--rows",
          "must be positive",
          "e.g. --clients 1,8,32 --duration-s 10");
    }
    String base = url.replaceAll("/+$", "") + "/v2/models/" + model;
    if (version != null) {
      base += "/versions/" + version;
    }
    List<RequestBody> bodies =
        data == null
            ? LoadGenerator.randomRequests(URI.create(base), 64, rows, freeDim, binary, 42)
            : LoadGenerator.dataRequests(
                URI.create(base), DataSpec.parse(data), rows, MAX_DATA_REQUESTS, binary);
    List<LoadGenerator.Call> calls =
        bodies.stream().map(b -> new LoadGenerator.Call(b, 200)).toList();
    PrintWriter out = spec.commandLine().getOut();
    if (!json) {
      out.printf(
          "%-8s %12s %9s %9s %9s %9s %11s%n",
          "clients", "requests/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "unexpected");
    }
    List<Map<String, Object>> runs = new ArrayList<>();
    for (int c : clients) {
      URI infer = URI.create(base + "/infer");
      Duration warmup = Duration.ofMillis(Math.round(warmupS * 1000));
      Duration duration = Duration.ofMillis(Math.round(durationS * 1000));
      LoadGenerator.Result r =
          LoadGenerator.run(
              rate == null
                  ? new LoadGenerator.Plan(infer, calls, c, warmup, duration)
                  : LoadGenerator.Plan.atRate(infer, calls, c, warmup, duration, rate));
      LatencyStats l = r.latency();
      if (json) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("clients", c);
        m.put("requests", r.requests());
        m.put("ok", r.ok());
        m.put("unexpected", r.unexpected());
        m.put("throughput_per_s", r.throughput());
        m.put("latency_ms", l);
        m.put("statuses", r.statuses());
        runs.add(m);
      } else {
        out.printf(
            "%-8d %12.1f %9.2f %9.2f %9.2f %9.2f %11d%n",
            c, r.throughput(), l.p50Ms(), l.p95Ms(), l.p99Ms(), l.maxMs(), r.unexpected());
        r.firstUnexpected().forEach(u -> out.println("  " + u));
      }
    }
    if (json) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("url", base + "/infer");
      doc.put("rows", rows);
      doc.put("data", data == null ? "random" : data);
      doc.put("distinct_requests", bodies.size());
      doc.put("binary", binary);
      doc.put("rate_per_s", rate);
      doc.put("runs", runs);
      Output.json(out, doc);
    }
    return ExitCodes.OK;
  }
}

package io.quantguard.cli;

import io.quantguard.evaluate.bench.BenchModel;
import io.quantguard.evaluate.bench.BenchPlan;
import io.quantguard.evaluate.bench.BenchResult;
import io.quantguard.evaluate.bench.BenchTable;
import io.quantguard.evaluate.bench.Benchmark;
import io.quantguard.evaluate.bench.OperatorProfiler;
import io.quantguard.evaluate.bench.ProfileTable;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.ResourceLocator;
import io.quantguard.runtime.SessionConfig;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code quantguard bench MODEL [MODEL...] --data SPEC}: latency, throughput, session creation
 * time, resident memory and size on disk, measured side by side with the same session options and
 * inputs, every model compared with the first.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Benchmark models side by side: latency p50/p95/p99 and throughput per batch size, session"
          + " creation time, resident memory, size on disk; every model against the first.",
      "Models run interleaved in rounds (one trial each per round); the speed-up is the median of"
          + " per-round ratios with a distribution-free confidence interval."
    })
final class BenchCommand implements Callable<Integer> {
  @Parameters(
      paramLabel = "MODEL",
      arity = "1..*",
      description =
          "models to compare (the first is the baseline): .onnx files, maven:...!/entry references"
              + " or known names (minilm, minilm-q)")
  List<String> models;

  @Option(
      names = "--data",
      required = true,
      paramLabel = "DATASPEC",
      description =
          "where the inputs come from, e.g. idx:images.gz?input=image or"
              + " text:europarl?tokenizer=minilm-tokenizer&column=3&limit=64")
  String data;

  @Option(
      names = "--batch",
      defaultValue = "1,8,32",
      paramLabel = "SIZES",
      description = "batch sizes, comma-separated (default: ${DEFAULT-VALUE})")
  String batch;

  @Option(
      names = "--threads",
      defaultValue = "0",
      paramLabel = "N",
      description = "intra-op threads per session; 0 = every core (default)")
  int threads;

  @Option(
      names = "--warmup",
      defaultValue = "2",
      paramLabel = "N",
      description = "unmeasured passes over the inputs per model and batch size (default: 2)")
  int warmup;

  @ArgGroup(exclusive = true)
  @Nullable Length length;

  /** How long to measure: a number of rounds or a time per batch size. */
  static final class Length {
    @Option(
        names = "--trials",
        paramLabel = "N",
        description = "rounds per batch size, one trial of each model per round (default: 10)")
    @Nullable Integer trials;

    @Option(
        names = "--duration",
        paramLabel = "S",
        description = "measure each batch size for S seconds instead (at least 3 rounds)")
    @Nullable Double duration;
  }

  @Option(
      names = "--optimization",
      defaultValue = "all",
      paramLabel = "LEVEL",
      description = "graph optimization: all (default), extended, basic or disabled")
  String optimization;

  @Option(
      names = "--isolate",
      description = "measure each model's memory in a fresh child JVM (clean peak RSS)")
  boolean isolate;

  @Option(
      names = "--profile",
      description =
          "after the timing, run each model once more under ONNX Runtime's profiler and print the"
              + " kernel time per operator type and per node side by side, and the share still in"
              + " float ops (why a quantized model is not faster)")
  boolean profile;

  @Option(names = "--json", description = "print JSON")
  boolean json;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    if (threads < 0) {
      throw new InvalidInputException(
          "--threads " + threads, "is negative", "use 0 (every core) or a positive count");
    }
    SessionConfig.Optimization level;
    try {
      level = SessionConfig.Optimization.parse(optimization);
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(
          "--optimization " + optimization,
          "is not a graph optimization level",
          "use all, extended, basic or disabled");
    }
    List<BenchModel> resolved = new ArrayList<>();
    for (String m : models) {
      resolved.add(new BenchModel(m, ResourceLocator.resolve(m)));
    }
    BenchPlan plan =
        BenchPlan.defaults(resolved, data)
            .withBatchSizes(BenchPlan.parseBatchSizes(batch))
            .withSession(SessionConfig.defaults().withThreads(threads).withOptimization(level))
            .withWarmup(warmup)
            .withIsolate(isolate);
    if (length != null && length.trials != null) {
      plan = plan.withTrials(length.trials);
    } else if (length != null && length.duration != null) {
      if (!(length.duration > 0) || length.duration.isInfinite()) {
        throw new InvalidInputException(
            "--duration " + length.duration, "is not a positive number of seconds", "use e.g. 30");
      }
      plan = plan.withDuration(length.duration);
    }
    Progress progress = TerminalProgress.forTerminal(spec.commandLine().getErr(), json);
    BenchResult result;
    try {
      result = new Benchmark(plan, progress).run();
      if (profile) {
        result = result.withProfiles(new OperatorProfiler(plan, progress).run());
      }
    } finally {
      if (progress instanceof TerminalProgress bar) {
        bar.finish();
      }
    }
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Output.json(out, result);
    } else {
      out.print(BenchTable.render(result));
      out.print(ProfileTable.render(result.profiles()));
      out.flush();
    }
    return ExitCodes.OK;
  }
}

package io.quantguard.evaluate.bench;

import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.data.DataSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Profiles a {@link BenchPlan}'s models with ONNX Runtime's own profiler, one model at a time, at
 * each batch size: a session with profiling on, the plan's warm-up passes (left out of the
 * figures), then enough passes for at least {@value #MIN_RUNS} runs. Kept apart from the timed
 * benchmark because recording every kernel costs time of its own; the traces are read and deleted.
 */
public final class OperatorProfiler {
  /** Profiled runs per model and batch size, at least. */
  static final int MIN_RUNS = 20;

  private final BenchPlan plan;
  private final Progress progress;

  public OperatorProfiler(BenchPlan plan, Progress progress) {
    this.plan = plan;
    this.progress = progress;
  }

  /** One profile per model and batch size, batch sizes outer, models in the plan's order. */
  public List<OperatorProfile> run() {
    var data = DataSpec.parse(plan.data());
    List<InputBatches> inputs = new ArrayList<>();
    for (int b : plan.batchSizes()) {
      inputs.add(InputBatches.read(data, b, plan.maxSamplesPerPass()));
    }
    List<OperatorProfile> out = new ArrayList<>();
    int total = inputs.size() * plan.models().size();
    Path dir;
    try {
      dir = Files.createTempDirectory("quantguard-profile");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      for (InputBatches in : inputs) {
        for (BenchModel m : plan.models()) {
          progress.update("profile", out.size(), total);
          out.add(profile(m, in, dir.resolve("model" + out.size())));
        }
      }
      progress.update("profile", total, total);
      return out;
    } finally {
      delete(dir);
    }
  }

  private OperatorProfile profile(BenchModel model, InputBatches in, Path prefix) {
    int warm = Math.max(1, plan.warmupPasses()) * in.feeds().size();
    int passes = (MIN_RUNS + in.feeds().size() - 1) / in.feeds().size();
    Path trace;
    try (InferenceSession s = InferenceSession.openProfiled(model.file(), plan.session(), prefix)) {
      for (int p = 0; p < warm / in.feeds().size() + passes; p++) {
        for (var feed : in.feeds()) {
          s.run(feed);
        }
      }
      trace = s.endProfiling();
    }
    return ProfileTrace.read(trace, model.label(), in.batchSize(), warm);
  }

  private static void delete(Path dir) {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        Files.deleteIfExists(f);
      }
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      // a trace left in the temporary directory is harmless
    }
  }
}

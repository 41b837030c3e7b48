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
 * Profiles a {@link BenchPlan}'s models with ONNX Runtime's own profiler at each batch size: one
 * profiling session per model, the plan's warm-up passes (left out of the figures), then rounds of
 * one pass per model, interleaved as in the benchmark, so that a busy spell of the machine hits
 * every model alike, until each has run at least {@value #MIN_RUNS} times. Kept apart from the
 * timed benchmark because recording every kernel costs time of its own; the traces are read and
 * deleted.
 */
public final class OperatorProfiler {
  /** Profiled runs per model and batch size, at least. */
  static final int MIN_RUNS = 50;

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
    Path dir;
    try {
      dir = Files.createTempDirectory("quantguard-profile");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      for (int i = 0; i < inputs.size(); i++) {
        progress.update("profile", i, inputs.size());
        out.addAll(profile(inputs.get(i), dir.resolve("batch" + inputs.get(i).batchSize())));
      }
      progress.update("profile", inputs.size(), inputs.size());
      return out;
    } finally {
      delete(dir);
    }
  }

  private List<OperatorProfile> profile(InputBatches in, Path prefix) {
    int feeds = in.feeds().size();
    int warm = Math.max(1, plan.warmupPasses());
    int passes = (MIN_RUNS + feeds - 1) / feeds;
    List<BenchModel> models = plan.models();
    List<InferenceSession> sessions = new ArrayList<>();
    List<Path> traces = new ArrayList<>();
    try {
      for (int m = 0; m < models.size(); m++) {
        sessions.add(
            InferenceSession.openProfiled(
                models.get(m).file(), plan.session(), Path.of(prefix + "-model" + m)));
      }
      for (InferenceSession s : sessions) {
        for (int p = 0; p < warm; p++) {
          pass(s, in);
        }
      }
      for (int round = 0; round < passes; round++) {
        for (int k = 0; k < sessions.size(); k++) {
          pass(sessions.get((round + k) % sessions.size()), in);
        }
      }
      for (InferenceSession s : sessions) {
        traces.add(s.endProfiling());
      }
    } finally {
      for (InferenceSession s : sessions) {
        s.close();
      }
    }
    List<OperatorProfile> out = new ArrayList<>();
    for (int m = 0; m < models.size(); m++) {
      out.add(
          ProfileTrace.read(traces.get(m), models.get(m).label(), in.batchSize(), warm * feeds));
    }
    return out;
  }

  private static void pass(InferenceSession s, InputBatches in) {
    for (var feed : in.feeds()) {
      s.run(feed);
    }
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

package io.quantguard.evaluate.bench;

import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One model's open session and everything measured on it: creation time and memory (taken while
 * opening and warming up, before any other session is created) and, per batch size, the latency of
 * every timed call and the time of every trial. It owns the session.
 */
final class ModelRun implements AutoCloseable {
  private final String label;
  private final InferenceSession session;
  private final double firstCreationMs;
  private final List<Double> creationMs = new ArrayList<>();
  private final MemoryUse memory;
  private final Map<Integer, Long> warmPassNanos;
  private final Map<Integer, LatencyHistogram> latency = new HashMap<>();
  private final Map<Integer, List<Long>> trialNanos = new HashMap<>();

  private ModelRun(
      String label,
      InferenceSession session,
      double creationMs,
      MemoryUse memory,
      Map<Integer, Long> warmPassNanos) {
    this.label = label;
    this.session = session;
    this.firstCreationMs = creationMs;
    this.memory = memory;
    this.warmPassNanos = warmPassNanos;
  }

  /**
   * Creates the session and runs {@code warmupPasses} unmeasured passes at every batch size,
   * reading RSS before, after creation and after warm-up, and the peak across both: {@code VmHWM}
   * after resetting it where Linux allows, else (and also) RSS sampled every few milliseconds.
   */
  static ModelRun open(
      String label,
      BenchModel model,
      SessionConfig config,
      Collection<InputBatches> inputs,
      int warmupPasses,
      String where) {
    long before = ResidentMemory.rss().orElse(-1);
    boolean reset = ResidentMemory.resetPeak();
    InferenceSession session = null;
    PeakRssSampler sampler = new PeakRssSampler();
    try {
      long t0 = System.nanoTime();
      session = InferenceSession.open(model.file(), config);
      double creationMs = (System.nanoTime() - t0) / 1e6;
      long afterSession = ResidentMemory.rss().orElse(-1);
      Map<Integer, Long> warm = new HashMap<>();
      for (InputBatches in : inputs) {
        for (int p = 0; p < warmupPasses; p++) {
          warm.put(in.batchSize(), pass(session, in, null));
        }
      }
      long afterWarmup = ResidentMemory.rss().orElse(-1);
      sampler.close();
      // The peak is at least every reading (VmRSS and VmHWM are kept by slightly different
      // counters, so a reset VmHWM can lag a VmRSS read a moment earlier by a few pages).
      long peak = Math.max(sampler.peak(), Math.max(afterSession, afterWarmup));
      if (reset) {
        peak = Math.max(peak, ResidentMemory.peak().orElse(-1));
      }
      String method =
          before < 0
              ? "unavailable (no /proc/self/status)"
              : where
                  + (reset
                      ? ": VmHWM reset before the session (clear_refs), read after warm-up"
                      : ": VmRSS sampled every 5 ms during creation and warm-up");
      MemoryUse memory = MemoryUse.of(method, before, afterSession, afterWarmup, peak);
      return new ModelRun(label, session, creationMs, memory, warm);
    } catch (RuntimeException e) {
      if (session != null) {
        session.close();
      }
      throw e;
    } finally {
      sampler.close();
    }
  }

  /**
   * One pass over the fixed batches; returns the summed call time. Each call is timed on its own:
   * the timed region is {@link InferenceSession#run}, i.e. copying the heap inputs into native
   * tensors, inference, and copying the outputs back to the heap.
   */
  private static long pass(
      InferenceSession session, InputBatches in, @Nullable LatencyHistogram into) {
    long total = 0;
    for (Map<String, Tensor> feed : in.feeds()) {
      long t0 = System.nanoTime();
      session.run(feed);
      long dt = System.nanoTime() - t0;
      if (into != null) {
        into.add(dt);
      }
      total += dt;
    }
    return total;
  }

  /**
   * Creates and closes one more session of the model with the same options and records how long
   * creation took. The first creation pays for things later ones find done (fresh memory pages,
   * code paths, the runtime's lazily built kernels), more so the earlier the model comes in the
   * list; the median of a few later creations is the figure to compare.
   */
  void timeCreation(BenchModel model, SessionConfig config) {
    long t0 = System.nanoTime();
    InferenceSession again = InferenceSession.open(model.file(), config);
    double ms = (System.nanoTime() - t0) / 1e6;
    again.close();
    creationMs.add(ms);
  }

  /** One unmeasured pass (to re-warm caches for a batch size). */
  void warm(InputBatches in) {
    pass(session, in, null);
  }

  /** One measured trial of {@code passes} passes; records every call and the trial's time. */
  long trial(InputBatches in, int passes) {
    LatencyHistogram h = latency.computeIfAbsent(in.batchSize(), b -> new LatencyHistogram());
    long total = 0;
    for (int p = 0; p < passes; p++) {
      total += pass(session, in, h);
    }
    trialNanos.computeIfAbsent(in.batchSize(), b -> new ArrayList<>()).add(total);
    return total;
  }

  String label() {
    return label;
  }

  /** The median of the creations after the first, or the first when there were none. */
  double creationMs() {
    if (creationMs.isEmpty()) {
      return firstCreationMs;
    }
    return RatioInterval.median(creationMs.stream().mapToDouble(Double::doubleValue).toArray());
  }

  /** The first creation, before any warm-up of this model. */
  double firstCreationMs() {
    return firstCreationMs;
  }

  MemoryUse memory() {
    return memory;
  }

  /** Time of the last warm-up pass at this batch size, or -1 without warm-up. */
  long warmPassNanos(int batchSize) {
    return warmPassNanos.getOrDefault(batchSize, -1L);
  }

  LatencyHistogram latency(int batchSize) {
    return latency.computeIfAbsent(batchSize, b -> new LatencyHistogram());
  }

  List<Long> trialNanos(int batchSize) {
    return trialNanos.getOrDefault(batchSize, List.of());
  }

  @Override
  public void close() {
    session.close();
  }
}

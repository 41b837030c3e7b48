package io.quantguard.evaluate.bench;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.SessionConfig;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * What a benchmark measures and how. Every model runs with the same {@link SessionConfig} on the
 * same fixed input batches.
 *
 * <p>Vocabulary: a <i>pass</i> runs every fixed batch of one batch size once; a <i>trial</i> is
 * {@code passesPerTrial} passes of one model (enough passes that a trial lasts at least {@link
 * #minTrialMillis}); a <i>round</i> is one trial of every model, interleaved. Either {@link
 * #trials} rounds run per batch size or, when {@link #durationSeconds} is positive, rounds run
 * until that much time has passed (at least {@value #MIN_ROUNDS} rounds).
 *
 * @param models the models; the first is the one the others are compared with
 * @param data the data spec the input batches are read from (see {@code DataSpec})
 * @param batchSizes batch sizes, each measured on its own
 * @param session ONNX Runtime options, the same for every model
 * @param warmupPasses unmeasured passes per model and batch size after the session is created
 * @param trials rounds per batch size (ignored when {@code durationSeconds > 0})
 * @param durationSeconds when positive, measure each batch size for this long instead
 * @param isolate measure each model's memory in a fresh child JVM
 * @param minTrialMillis the least time a trial should take, so one trial averages out timer and
 *     scheduler noise
 * @param maxSamplesPerPass at most this many samples are read per batch size (and at least one
 *     batch)
 * @param confidence the confidence level of ratio intervals, e.g. 0.95
 */
public record BenchPlan(
    List<BenchModel> models,
    String data,
    List<Integer> batchSizes,
    SessionConfig session,
    int warmupPasses,
    int trials,
    double durationSeconds,
    boolean isolate,
    double minTrialMillis,
    int maxSamplesPerPass,
    double confidence) {

  /** Rounds run at least this often in duration mode, so there is an interval to report. */
  public static final int MIN_ROUNDS = 3;

  public BenchPlan {
    models = List.copyOf(models);
    batchSizes = List.copyOf(batchSizes);
    if (models.isEmpty()) {
      throw new InvalidInputException("MODEL", "no model given", "name at least one model");
    }
    if (data == null || data.isBlank()) {
      throw InvalidInputException.forParameter(
          "bench.data", null, "is missing", "give a data spec, e.g. idx:images.gz?input=image");
    }
    if (batchSizes.isEmpty()) {
      throw InvalidInputException.forParameter(
          "bench.batchSizes", null, "lists no batch size", "list e.g. 1,8");
    }
    if (new LinkedHashSet<>(batchSizes).size() != batchSizes.size()) {
      throw InvalidInputException.forParameter(
          "bench.batchSizes", batchSizes, "lists a batch size twice", "list each size once");
    }
    for (int b : batchSizes) {
      if (b < 1) {
        throw InvalidInputException.forParameter(
            "bench.batchSizes",
            batchSizes,
            "batch size " + b + " is not positive",
            "use sizes of 1 or more");
      }
    }
    if (warmupPasses < 0) {
      throw InvalidInputException.forParameter(
          "bench.warmupPasses", warmupPasses, "is negative", "use 0 (no warm-up) or more");
    }
    if (!(durationSeconds >= 0) || Double.isInfinite(durationSeconds)) {
      throw InvalidInputException.forParameter(
          "bench.durationSeconds", durationSeconds, "is not a number of seconds", "use e.g. 30");
    }
    if (durationSeconds == 0 && trials < 1) {
      throw InvalidInputException.forParameter(
          "bench.trials", trials, "trials measure nothing", "use 1 or more (10 gives an interval)");
    }
    if (!(minTrialMillis >= 0) || maxSamplesPerPass < 1 || !(confidence > 0 && confidence < 1)) {
      throw new IllegalArgumentException(
          "minTrialMillis, maxSamplesPerPass or confidence out of range");
    }
  }

  /**
   * Batch sizes 1, 8 and 32, all optimizations on every core, 2 warm-up passes, 10 rounds, trials
   * of at least 200 ms, at most 256 samples per batch size, 95 % intervals.
   */
  public static BenchPlan defaults(List<BenchModel> models, String data) {
    return new BenchPlan(
        models, data, List.of(1, 8, 32), SessionConfig.defaults(), 2, 10, 0, false, 200, 256, 0.95);
  }

  /** Parses a comma-separated list such as {@code 1,8,32} (distinct, positive). */
  public static List<Integer> parseBatchSizes(String list) {
    List<Integer> out = new ArrayList<>();
    LinkedHashSet<Integer> seen = new LinkedHashSet<>();
    for (String part : (list == null ? "" : list).split(",")) {
      String p = part.trim();
      if (p.isEmpty()) {
        continue;
      }
      int b;
      try {
        b = Integer.parseInt(p);
      } catch (NumberFormatException e) {
        throw InvalidInputException.forParameter(
            "bench.batchSizes", list, "'" + p + "' is not a whole number", "list e.g. 1,8,32");
      }
      if (b < 1) {
        throw InvalidInputException.forParameter(
            "bench.batchSizes",
            list,
            "batch size " + b + " is not positive",
            "use sizes of 1 or more");
      }
      if (!seen.add(b)) {
        throw InvalidInputException.forParameter(
            "bench.batchSizes", list, "lists batch size " + b + " twice", "list each size once");
      }
      out.add(b);
    }
    if (out.isEmpty()) {
      throw InvalidInputException.forParameter(
          "bench.batchSizes", list, "lists no batch size", "list e.g. 1,8,32");
    }
    return List.copyOf(out);
  }

  public BenchPlan withBatchSizes(List<Integer> sizes) {
    return new BenchPlan(
        models,
        data,
        sizes,
        session,
        warmupPasses,
        trials,
        durationSeconds,
        isolate,
        minTrialMillis,
        maxSamplesPerPass,
        confidence);
  }

  public BenchPlan withSession(SessionConfig config) {
    return new BenchPlan(
        models,
        data,
        batchSizes,
        config,
        warmupPasses,
        trials,
        durationSeconds,
        isolate,
        minTrialMillis,
        maxSamplesPerPass,
        confidence);
  }

  public BenchPlan withWarmup(int passes) {
    return new BenchPlan(
        models,
        data,
        batchSizes,
        session,
        passes,
        trials,
        durationSeconds,
        isolate,
        minTrialMillis,
        maxSamplesPerPass,
        confidence);
  }

  /** Runs exactly {@code rounds} rounds per batch size. */
  public BenchPlan withTrials(int rounds) {
    return new BenchPlan(
        models,
        data,
        batchSizes,
        session,
        warmupPasses,
        rounds,
        0,
        isolate,
        minTrialMillis,
        maxSamplesPerPass,
        confidence);
  }

  /** Runs rounds for {@code seconds} per batch size instead of a fixed number. */
  public BenchPlan withDuration(double seconds) {
    return new BenchPlan(
        models,
        data,
        batchSizes,
        session,
        warmupPasses,
        trials,
        seconds,
        isolate,
        minTrialMillis,
        maxSamplesPerPass,
        confidence);
  }

  public BenchPlan withIsolate(boolean isolated) {
    return new BenchPlan(
        models,
        data,
        batchSizes,
        session,
        warmupPasses,
        trials,
        durationSeconds,
        isolated,
        minTrialMillis,
        maxSamplesPerPass,
        confidence);
  }

  public BenchPlan withMinTrialMillis(double millis) {
    return new BenchPlan(
        models,
        data,
        batchSizes,
        session,
        warmupPasses,
        trials,
        durationSeconds,
        isolate,
        millis,
        maxSamplesPerPass,
        confidence);
  }

  public BenchPlan withMaxSamplesPerPass(int samples) {
    return new BenchPlan(
        models,
        data,
        batchSizes,
        session,
        warmupPasses,
        trials,
        durationSeconds,
        isolate,
        minTrialMillis,
        samples,
        confidence);
  }

  /** The confidence level of the ratio intervals, e.g. 0.95. */
  public BenchPlan withConfidence(double level) {
    return new BenchPlan(
        models,
        data,
        batchSizes,
        session,
        warmupPasses,
        trials,
        durationSeconds,
        isolate,
        minTrialMillis,
        maxSamplesPerPass,
        level);
  }
}

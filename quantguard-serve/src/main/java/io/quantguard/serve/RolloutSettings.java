package io.quantguard.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.InvalidInputException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How a rollout runs: its mode, the canary's traffic steps, how often the live window is judged,
 * how many paired samples make a window conclusive, and how many failed intervals it may have
 * before it is rolled back. Kept with the rollout in the registry (as JSON), so a restarted server
 * resumes under the same settings.
 *
 * @param steps the candidate's share of traffic per step, in percent, rising, the last 100
 *     (canary); shadow mode ignores them: the candidate answers nobody until it is promoted
 * @param interval how often the live window is judged
 * @param minSamples paired samples (rows both versions answered) a window needs to be judged; fewer
 *     make it inconclusive: it neither passes nor fails, and keeps collecting
 * @param maxFailedIntervals failed intervals that roll the candidate back (the failure budget):
 *     fewer hold it at its step
 */
public record RolloutSettings(
    Mode mode, List<Integer> steps, Duration interval, int minSamples, int maxFailedIntervals) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Canary: a share of traffic answered by the candidate; shadow: the candidate runs aside. */
  public enum Mode {
    CANARY,
    SHADOW;

    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Mode parse(String s) {
      for (Mode m : values()) {
        if (m.id().equalsIgnoreCase(s.strip())) {
          return m;
        }
      }
      throw InvalidInputException.forParameter(
          "rollout.mode", s, "is not a rollout mode", "use canary or shadow");
    }
  }

  public RolloutSettings {
    steps = List.copyOf(steps);
    if (steps.isEmpty() || steps.get(steps.size() - 1) != 100) {
      throw bad("rollout.steps", steps, "must end at 100 %", "e.g. 5, 25, 50, 100");
    }
    for (int i = 0; i < steps.size(); i++) {
      int s = steps.get(i);
      if (s < 1 || s > 100 || (i > 0 && s <= steps.get(i - 1))) {
        throw bad("rollout.steps", steps, "must rise from 1 to 100 %", "e.g. 5, 25, 50, 100");
      }
    }
    if (interval.isNegative() || interval.isZero()) {
      throw bad("rollout.interval", interval, "must be positive", "e.g. 60 s");
    }
    if (minSamples < 1) {
      throw bad("rollout.minSamples", minSamples, "must be at least 1", "e.g. 200");
    }
    if (maxFailedIntervals < 1) {
      throw bad(
          "rollout.maxFailedIntervals",
          maxFailedIntervals,
          "must be at least 1",
          "1 rolls back at the first failed interval");
    }
  }

  /** Canary 5 → 25 → 50 → 100 %, judged every minute on at least 200 paired samples, budget 2. */
  public static RolloutSettings defaults() {
    return new RolloutSettings(Mode.CANARY, List.of(5, 25, 50, 100), Duration.ofMinutes(1), 200, 2);
  }

  public RolloutSettings withMode(Mode m) {
    return new RolloutSettings(m, steps, interval, minSamples, maxFailedIntervals);
  }

  public RolloutSettings withSteps(List<Integer> s) {
    return new RolloutSettings(mode, s, interval, minSamples, maxFailedIntervals);
  }

  public RolloutSettings withInterval(Duration d) {
    return new RolloutSettings(mode, steps, d, minSamples, maxFailedIntervals);
  }

  public RolloutSettings withMinSamples(int n) {
    return new RolloutSettings(mode, steps, interval, n, maxFailedIntervals);
  }

  public RolloutSettings withMaxFailedIntervals(int n) {
    return new RolloutSettings(mode, steps, interval, minSamples, n);
  }

  /** The candidate's share of traffic at {@code step}, 0 to 1 (0 in shadow mode). */
  public double share(int step) {
    return mode == Mode.SHADOW ? 0 : steps.get(Math.min(step, steps.size() - 1)) / 100.0;
  }

  /** True when {@code step} is the last: a passing interval there promotes the candidate. */
  public boolean lastStep(int step) {
    return mode == Mode.SHADOW || step >= steps.size() - 1;
  }

  /** The JSON kept in the registry. */
  public String toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("mode", mode.id());
    m.put("steps", steps);
    m.put("interval_ms", interval.toMillis());
    m.put("min_samples", minSamples);
    m.put("max_failed_intervals", maxFailedIntervals);
    try {
      return JSON.writeValueAsString(m);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Reads what {@link #toJson} wrote; {@code source} names it in errors. */
  public static RolloutSettings fromJson(String json, String source) {
    try {
      JsonNode n = JSON.readTree(json);
      List<Integer> steps = new ArrayList<>();
      n.path("steps").forEach(s -> steps.add(s.asInt()));
      return new RolloutSettings(
          Mode.parse(n.path("mode").asText()),
          steps,
          Duration.ofMillis(n.path("interval_ms").asLong()),
          n.path("min_samples").asInt(),
          n.path("max_failed_intervals").asInt());
    } catch (JsonProcessingException e) {
      throw new InvalidInputException(
          source, "holds unreadable rollout settings: " + e.getOriginalMessage(), "roll it back");
    }
  }

  private static InvalidInputException bad(String key, Object value, String problem, String fix) {
    return InvalidInputException.forParameter(key, value, problem, fix);
  }
}

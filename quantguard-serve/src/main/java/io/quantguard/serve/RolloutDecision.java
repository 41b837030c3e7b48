package io.quantguard.serve;

import io.quantguard.registry.RolloutRecord;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one analysis interval (or an operator) decided about a rollout, and why.
 *
 * @param decision {@code inconclusive} (too few paired samples: neither pass nor fail), {@code
 *     step_up}, {@code hold}, {@code promote}, {@code rollback}, {@code pause}, {@code resume}, or
 *     {@code none} when the rollout is not running
 * @param status where the rollout stands afterwards
 * @param share the candidate's share of traffic afterwards, 0 to 1
 * @param reason one sentence with the measured numbers, as the change log keeps it
 * @param measured the live window's numbers the decision was made on (empty for manual ones)
 */
public record RolloutDecision(
    String decision,
    RolloutRecord.Status status,
    int step,
    double share,
    int failedIntervals,
    String reason,
    Map<String, Object> measured) {
  public RolloutDecision {
    measured = Collections.unmodifiableMap(new LinkedHashMap<>(measured));
  }
}

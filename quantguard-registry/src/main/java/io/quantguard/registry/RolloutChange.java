package io.quantguard.registry;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One decision about a running rollout, to be recorded with its reason: the new status, step and
 * failure count, and what was measured. {@code PROMOTED} puts the candidate into production (the
 * baseline is archived); {@code ROLLED_BACK} archives the candidate and leaves production as it is.
 *
 * @param decision what was decided, in the server's words ({@code step_up}, {@code hold}, {@code
 *     pause}, ...), recorded in the details
 * @param reason the measured why (the policy's verdicts), or the operator's
 * @param details what else to keep with the entry (measurements, verdicts)
 */
public record RolloutChange(
    String decision,
    RolloutRecord.Status status,
    int step,
    int failedIntervals,
    String reason,
    Map<String, Object> details) {
  public RolloutChange {
    details = Collections.unmodifiableMap(new LinkedHashMap<>(details));
  }
}

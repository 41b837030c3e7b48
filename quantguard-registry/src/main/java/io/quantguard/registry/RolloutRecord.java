package io.quantguard.registry;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * Where a rollout stands, as the registry keeps it for the server that runs it: which candidate
 * against which production version, in which mode, at which step, with how many failed analysis
 * intervals, under which settings and policy. A restarted server reads it back and resumes.
 *
 * @param id the change-log number of the entry that started it
 * @param mode {@code canary} or {@code shadow}
 * @param step the index into the settings' traffic steps (0 first)
 * @param settings the rollout settings as the server wrote them (JSON); the registry does not read
 *     them
 * @param policyText the policy's YAML, kept under {@code policySha256} like every policy text
 * @param changeSeq the change-log entry of the latest change
 */
public record RolloutRecord(
    long id,
    String model,
    int candidate,
    int baseline,
    String mode,
    Status status,
    int step,
    int failedIntervals,
    String settings,
    String policySha256,
    String policyText,
    long changeSeq) {

  /** A rollout is under way ({@code running}, {@code paused}) or over. */
  public enum Status {
    RUNNING,
    PAUSED,
    PROMOTED,
    ROLLED_BACK;

    @JsonValue
    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }

    public boolean active() {
      return this == RUNNING || this == PAUSED;
    }

    static Status parse(String s) {
      return valueOf(s.toUpperCase(Locale.ROOT));
    }
  }

  public ArtifactRef candidateRef() {
    return ArtifactRef.of(model, candidate);
  }

  public ArtifactRef baselineRef() {
    return ArtifactRef.of(model, baseline);
  }
}

package io.quantguard.registry;

import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One append-only line of the audit trail: who did what to which version, when and why.
 *
 * @param seq gap-free sequence number; the order in which changes took effect
 * @param version the version acted on (the new production version for a rollback); null for a
 *     policy change
 * @param stage the stage it was moved to; for a policy change the stage the policy is for (null:
 *     every stage); or null
 * @param previousVersion the version that held that stage before (production before a rollback), or
 *     null
 * @param reason the why given with {@code --reason} (or the note of a registration)
 * @param details what else the action recorded (hashes, the displaced version's new stage, the
 *     outcome of a reproduction, a policy's old and new SHA-256)
 */
public record ChangeLogEntry(
    long seq,
    @JsonSerialize(using = ToStringSerializer.class) Instant at,
    String actor,
    Action action,
    String model,
    @Nullable Integer version,
    @Nullable Stage stage,
    @Nullable Integer previousVersion,
    @Nullable String reason,
    Map<String, Object> details) {

  public ChangeLogEntry {
    details = Collections.unmodifiableMap(new LinkedHashMap<>(details));
  }
}

package io.quantguard.registry;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import org.jspecify.annotations.Nullable;

/**
 * What setting a model's policy did. In JSON the policy's fields come first, then {@code changed},
 * {@code previousSha256} and {@code changeLogSeq}.
 *
 * @param policy the policy now in force for that stage (or every stage)
 * @param previousSha256 the hash of the text it replaced, or null when there was none
 * @param entry the change-log entry, or null when that text was in force already (nothing was
 *     recorded)
 */
@JsonPropertyOrder({"policy", "changed", "previousSha256", "changeLogSeq"})
public record PolicyChange(
    @JsonUnwrapped ModelPolicy policy,
    @Nullable String previousSha256,
    @JsonIgnore @Nullable ChangeLogEntry entry) {
  /** False when the same text was set again: a no-op. */
  @JsonProperty("changed")
  public boolean changed() {
    return entry != null;
  }

  /** The change-log entry's number, or null when nothing was recorded. */
  @JsonProperty("changeLogSeq")
  public @Nullable Long changeLogSeq() {
    return entry != null ? entry.seq() : null;
  }
}

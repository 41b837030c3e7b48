package io.quantguard.registry;

/**
 * What setting a model's policy did.
 *
 * @param policy the policy now in force for that stage (or every stage)
 * @param previousSha256 the hash of the text it replaced, or null when there was none
 * @param entry the change-log entry, or null when that text was in force already (nothing was
 *     recorded)
 */
public record PolicyChange(ModelPolicy policy, String previousSha256, ChangeLogEntry entry) {
  /** False when the same text was set again: a no-op. */
  public boolean changed() {
    return entry != null;
  }
}

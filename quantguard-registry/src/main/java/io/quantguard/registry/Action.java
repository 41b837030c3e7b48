package io.quantguard.registry;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** What a change-log entry records. */
public enum Action {
  /** A new version was stored. */
  REGISTER,
  /** A version was moved to a stage (canary, production, ...). */
  PROMOTE,
  /**
   * Production was moved back to an earlier version, or a rollout's candidate was withdrawn (then
   * the entry's stage is {@code archived} and production did not change).
   */
  ROLLBACK,
  /** A version was rebuilt from its recipe and compared byte for byte. */
  REPRODUCE,
  /** A version was re-evaluated on current data and judged against a policy. */
  AUDIT,
  /**
   * A model's policy (for every stage, or for one) was set or replaced; the entry carries the old
   * and new text's SHA-256.
   */
  POLICY,
  /**
   * A rollout started, moved a step, held, paused or resumed; its end is a {@link #PROMOTE} or
   * {@link #ROLLBACK} entry. The details carry the decision and what was measured.
   */
  ROLLOUT,
  /**
   * A version's drift reference profile was stored or replaced; the entry carries the old and new
   * profile's SHA-256.
   */
  PROFILE,
  /**
   * A server with a latency objective moved a model's traffic to another of its variants (a faster
   * one when the objective broke, back when load fell); the entry's version is the variant now
   * answering, its previous version the one before, the details the measured latency.
   */
  VARIANT;

  /** The name used in the database and in JSON: {@code register}, {@code promote}, ... */
  @JsonValue
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  @Override
  public String toString() {
    return id();
  }

  static Action parse(String s) {
    return valueOf(s.toUpperCase(Locale.ROOT));
  }
}

package io.quantguard.registry;

import com.fasterxml.jackson.annotation.JsonValue;
import io.quantguard.onnx.InvalidInputException;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Where a version stands in its rollout. {@link #CANARY} and {@link #PRODUCTION} are aliases held
 * by at most one version of a model at a time (what a server asks for); any number of versions can
 * be candidates or archived.
 */
public enum Stage {
  /** Registered, not serving. */
  CANDIDATE,
  /** Serving a share of traffic beside production. */
  CANARY,
  /** Serving. */
  PRODUCTION,
  /** Replaced or rolled back; kept for lineage, audits and rollback. */
  ARCHIVED;

  /** The name used in the database, on the command line and in JSON. */
  @JsonValue
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** True for the stages that name exactly one version of a model. */
  public boolean exclusive() {
    return this == CANARY || this == PRODUCTION;
  }

  @Override
  public String toString() {
    return id();
  }

  /** Parses {@code candidate}, {@code canary}, {@code production} or {@code archived}. */
  public static Stage parse(String s, String input) {
    for (Stage st : values()) {
      if (st.id().equalsIgnoreCase(s.trim())) {
        return st;
      }
    }
    throw new InvalidInputException(
        input,
        "unknown stage '" + s + "'",
        "use one of " + Arrays.stream(values()).map(Stage::id).collect(Collectors.joining(", ")));
  }
}

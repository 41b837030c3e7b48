package io.quantguard.cli.registry;

import io.quantguard.registry.ChangeLogEntry;
import io.quantguard.registry.Stage;
import java.nio.file.Path;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** Change-log entries as the commands print them. */
public final class ChangeLogText {
  private ChangeLogText() {}

  /** The line a command prints after it changed something: which entry, who, why. */
  public static String recorded(ChangeLogEntry e) {
    return String.format("Recorded    change #%d by %s: %s", e.seq(), e.actor(), e.reason());
  }

  /** One entry as a line: number, time, who, action, what, "why". */
  public static String line(ChangeLogEntry e) {
    return String.format(
        "#%-4d %s  %-10s %-9s %s", e.seq(), e.at(), e.actor(), e.action().id(), what(e));
  }

  private static String what(ChangeLogEntry e) {
    String ref = e.model() + (e.version() != null ? "@" + e.version() : "");
    Map<String, Object> d = e.details();
    String s =
        switch (e.action()) {
          case REGISTER ->
              ref
                  + " sha256 "
                  + abbrev(d.get("sha256"))
                  + (d.containsKey("parent") ? " from " + d.get("parent") : "");
          case PROMOTE ->
              ref
                  + " -> "
                  + scope(e.stage())
                  + (e.previousVersion() != null
                      ? " (" + e.model() + "@" + e.previousVersion() + " displaced)"
                      : "");
          case ROLLBACK ->
              e.stage() == Stage.ARCHIVED
                  ? "rollout of "
                      + ref
                      + " rolled back (production stays "
                      + d.get("production")
                      + ")"
                  : "production " + e.model() + "@" + e.previousVersion() + " -> " + ref;
          case PROFILE ->
              ref
                  + " drift profile sha256 "
                  + abbrev(d.get("profileSha256"))
                  + (d.get("previousSha256") != null
                      ? " (replaces " + abbrev(d.get("previousSha256")) + ")"
                      : "");
          case VARIANT ->
              "traffic "
                  + e.model()
                  + "@"
                  + e.previousVersion()
                  + " -> "
                  + ref
                  + " ("
                  + d.get("direction")
                  + " variant)";
          case ROLLOUT ->
              ref
                  + " "
                  + d.get("decision")
                  + " ("
                  + d.get("mode")
                  + (d.containsKey("step") ? ", step " + d.get("step") : "")
                  + (d.containsKey("baseline") ? " against " + d.get("baseline") : "")
                  + ")";
          case REPRODUCE ->
              ref
                  + (Boolean.TRUE.equals(d.get("identical"))
                      ? " byte for byte"
                      : " DIFFERS ("
                          + String.join(
                              ", ",
                              d.keySet().stream()
                                  .filter(
                                      k ->
                                          !k.equals("identical")
                                              && !k.equals("reproducedSha256")
                                              && !k.equals("calibration"))
                                  .toList())
                          + ")");
          case AUDIT -> {
            Object judged = d.get("policySha256");
            Object registered = d.get("registeredPolicySha256");
            yield ref
                + " ("
                + d.get("stage")
                + ") "
                + (Boolean.TRUE.equals(d.get("passed")) ? "passed " : "FAILED ")
                + d.get("policy")
                + (judged != null ? " sha256 " + abbrev(judged) : "")
                + (judged != null && registered != null && !registered.equals(judged)
                    ? ", not the registered " + abbrev(registered)
                    : "");
          }
          case POLICY -> {
            Object source = d.get("source");
            Object previous = d.get("previousSha256");
            yield e.model()
                + " ("
                + scope(e.stage())
                + ") "
                + (source != null ? Path.of(source.toString()).getFileName() + " " : "")
                + "sha256 "
                + abbrev(d.get("sha256"))
                + " (was "
                + (previous != null ? abbrev(previous) : "none")
                + ")";
          }
        };
    return s + (e.reason() != null ? "  \"" + e.reason() + "\"" : "");
  }

  private static String scope(@Nullable Stage stage) {
    return stage == null ? "every stage" : stage.id();
  }

  /** The first 12 hex digits of a hash, as the log shows them. */
  private static String abbrev(@Nullable Object sha) {
    String s = String.valueOf(sha);
    return s.substring(0, Math.min(12, s.length()));
  }
}

package io.quantguard.registry;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import io.quantguard.report.Policy;
import io.quantguard.report.Sha256;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * A policy registered for a model: the limits its versions are audited against, for one stage or
 * for every stage that has none of its own. The text is kept as it was set; the change log names it
 * by {@link #sha256(String) SHA-256}.
 *
 * @param stage the stage it is for, or null for every stage
 * @param name the policy's name: {@code name:} in its text, else the file name it was set from
 * @param sha256 SHA-256 of the text's UTF-8 bytes
 * @param text the policy (YAML) as it was set
 * @param source the file it was set from, as given, or null
 * @param changeSeq the change-log entry that set it (who, when and why below come from it)
 */
@JsonPropertyOrder({
  "model",
  "stage",
  "scope",
  "name",
  "sha256",
  "rules",
  "source",
  "changeSeq",
  "setAt",
  "setBy",
  "reason",
  "text"
})
public record ModelPolicy(
    String model,
    @Nullable Stage stage,
    String name,
    String sha256,
    String text,
    @Nullable String source,
    long changeSeq,
    @JsonSerialize(using = ToStringSerializer.class) Instant setAt,
    String setBy,
    @Nullable String reason) {

  /** The column value for "every stage". */
  static final String ANY_STAGE = "any";

  /** {@code every stage} or the stage's name, for messages. */
  @JsonProperty("scope")
  public String scope() {
    return scope(stage);
  }

  static String scope(@Nullable Stage stage) {
    return stage == null ? "every stage" : stage.id();
  }

  /** The parsed policy, named as it was when set; errors name the model and the hash. */
  public Policy policy() {
    String where =
        model + "'s registered policy for " + scope() + " (sha256 " + sha256.substring(0, 12) + ")";
    return new Policy(name, where, Policy.parse(text, where).rules());
  }

  /** How many rules the policy has. */
  @JsonProperty("rules")
  public int ruleCount() {
    return policy().rules().size();
  }

  /** The hash the registry and its change log name a policy text by. */
  public static String sha256(String text) {
    return Sha256.of(text);
  }
}

package io.quantguard.release;

import io.quantguard.registry.ModelPolicy;
import io.quantguard.report.Policy;
import org.jspecify.annotations.Nullable;

/**
 * Which policy an audit judges by, and why: the one given, else the model's registered policy for
 * the version's stage (or for every stage). A given policy that is not the registered one is still
 * judged; the change log then records both hashes.
 *
 * @param policy the parsed policy
 * @param sha256 SHA-256 of its text, as the change log records it
 * @param given true for a policy given to the audit, false for the registered one
 * @param label how the change log names it: the file name, or {@code NAME (registered)}
 * @param source the file it was given as, or null for the registered one
 * @param registered the model's registered policy for the version's stage, or null when it has none
 */
public record PolicyChoice(
    Policy policy,
    String sha256,
    boolean given,
    String label,
    @Nullable String source,
    @Nullable ModelPolicy registered) {

  public PolicyChoice {
    if (!given && registered == null) {
      throw new IllegalArgumentException("the registered policy is required when none was given");
    }
  }

  /** True when a policy was given and the model's registered one is another text. */
  public boolean overridesRegistered() {
    return given && registered != null && !registered.sha256().equals(sha256);
  }

  /** Why this policy: one sentence for logs and reports. */
  public String why() {
    if (registered == null) {
      // Only a given policy comes without a registered one (the constructor checks).
      return "given; the model has no registered policy for this stage";
    }
    if (!given) {
      return "the model's registered policy for "
          + registered.scope()
          + " (set by change #"
          + registered.changeSeq()
          + ")";
    }
    return !registered.sha256().equals(sha256)
        ? "given; it is not the model's registered policy for "
            + registered.scope()
            + " ("
            + registered.name()
            + ", sha256 "
            + registered.sha256().substring(0, 12)
            + ", set by change #"
            + registered.changeSeq()
            + "), so both hashes are recorded"
        : "given; it is the model's registered policy for " + registered.scope();
  }
}

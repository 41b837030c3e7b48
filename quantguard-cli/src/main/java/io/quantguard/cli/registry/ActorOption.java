package io.quantguard.cli.registry;

import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/** Who makes a change: {@code --actor}, else {@code $USER}, else the JVM's user name. */
public final class ActorOption {
  @Option(names = "--actor", description = "who makes the change (default: $USER)")
  @Nullable String actor;

  public String get() {
    if (actor != null && !actor.isBlank()) {
      return actor;
    }
    String user = System.getenv("USER");
    return user != null && !user.isBlank() ? user : System.getProperty("user.name", "unknown");
  }
}

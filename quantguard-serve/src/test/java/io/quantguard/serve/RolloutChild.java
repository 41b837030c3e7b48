package io.quantguard.serve;

import io.quantguard.registry.Registry;

/**
 * A separate serving JVM for {@link RolloutKillTest}: {@code LOCATION} resumes the rollout of
 * {@code cnn} under way in that registry, serves it on a free port, prints {@code URL http://...}
 * and runs (its analysis on the rollout's real interval) until it is killed.
 */
public final class RolloutChild {
  private RolloutChild() {}

  public static void main(String[] args) throws Exception {
    Registry registry = Registry.open(args[0]);
    RolloutController rollout = RolloutController.resume(registry, "cnn", "child").orElseThrow();
    InferenceServer server =
        InferenceServer.builder()
            .config(ServerConfig.defaults().withPort(0).withThreads(2))
            .rollout(rollout)
            .build()
            .start();
    System.out.println("URL " + server.url());
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}

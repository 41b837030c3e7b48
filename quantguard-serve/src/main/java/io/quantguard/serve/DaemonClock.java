package io.quantguard.serve;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The server's clocks (the traffic timeline's second, the drift and rollout intervals, the variant
 * window): one named daemon thread each, so a clock never keeps the JVM alive, running its task at
 * a fixed rate until the returned executor is shut down.
 */
final class DaemonClock {
  private DaemonClock() {}

  /** Runs {@code task} every {@code period}, the first time one period from now. */
  static ScheduledExecutorService every(String thread, Duration period, Runnable task) {
    ScheduledExecutorService clock =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, thread);
              t.setDaemon(true);
              return t;
            });
    long ns = period.toNanos();
    clock.scheduleAtFixedRate(task, ns, ns, TimeUnit.NANOSECONDS);
    return clock;
  }
}

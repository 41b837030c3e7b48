package io.quantguard.evaluate.bench;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads {@code VmRSS} every few milliseconds on a daemon thread and keeps the largest value: the
 * peak where {@code VmHWM} cannot be reset. It runs only around session creation and warm-up, never
 * while latencies are timed.
 */
final class PeakRssSampler implements AutoCloseable {
  private static final long PERIOD_MILLIS = 5;

  private final AtomicLong peak = new AtomicLong(-1);
  private final Thread thread;
  private volatile boolean running = true;

  PeakRssSampler() {
    sample();
    thread = new Thread(this::loop, "quantguard-rss-sampler");
    thread.setDaemon(true);
    thread.start();
  }

  private void loop() {
    while (running) {
      sample();
      try {
        Thread.sleep(PERIOD_MILLIS);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private void sample() {
    ResidentMemory.rss().ifPresent(v -> peak.accumulateAndGet(v, Math::max));
  }

  /** The largest RSS seen so far, or -1 where RSS cannot be read. */
  long peak() {
    return peak.get();
  }

  @Override
  public void close() {
    if (running) {
      running = false;
      thread.interrupt();
      try {
        thread.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      sample();
    }
  }
}

package io.quantguard.serve;

import java.time.Duration;

/**
 * Dynamic batching, as Triton does it: requests for one version that arrive within {@code maxDelay}
 * of the first waiting one are stacked along the first dimension, up to {@code maxBatchSize} rows,
 * run once and split back per request. A request joins only a batch whose other dimensions and
 * types match its own; one that does not starts the next batch. {@code maxBatchSize} 1 turns
 * batching off.
 *
 * @param maxQueue requests that may wait per version; the next one is answered 429
 */
public record BatchPolicy(int maxBatchSize, Duration maxDelay, int maxQueue) {
  public BatchPolicy {
    if (maxBatchSize < 1) {
      throw new IllegalArgumentException("max batch size must be >= 1, not " + maxBatchSize);
    }
    if (maxDelay.isNegative()) {
      throw new IllegalArgumentException("max delay must be >= 0, not " + maxDelay);
    }
    if (maxQueue < 1) {
      throw new IllegalArgumentException("max queue must be >= 1, not " + maxQueue);
    }
  }

  /** 32 rows, 2 ms, 256 waiting requests. */
  public static BatchPolicy defaults() {
    return new BatchPolicy(32, Duration.ofMillis(2), 256);
  }

  public boolean enabled() {
    return maxBatchSize > 1;
  }
}

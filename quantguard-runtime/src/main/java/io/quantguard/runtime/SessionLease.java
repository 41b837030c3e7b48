package io.quantguard.runtime;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A claim on an open {@link InferenceSession}: while a lease is held the session's native resources
 * stay allocated, and its runs succeed even after the session began to close (a swap retired it).
 * Closing the lease returns the claim; the session is released once its last lease is returned.
 * Leases are cheap (one counter update each way) and meant to be held for one request by one
 * thread, in try-with-resources: a lease never returned keeps a retired session's memory until the
 * process ends.
 */
public final class SessionLease implements AutoCloseable {
  private final InferenceSession session;
  private final AtomicBoolean returned = new AtomicBoolean();

  SessionLease(InferenceSession session) {
    this.session = session;
  }

  /** The leased session, for its metadata ({@link InferenceSession#modelName()}, inputs, ...). */
  public InferenceSession session() {
    return session;
  }

  /** Runs with all outputs on the leased session. */
  public Map<String, Tensor> run(Map<String, Tensor> feed) {
    return run(feed, session.outputNames());
  }

  /** Runs and returns the requested outputs, as {@link InferenceSession#run(Map, Collection)}. */
  public Map<String, Tensor> run(Map<String, Tensor> feed, Collection<String> wanted) {
    if (returned.get()) {
      throw new IllegalStateException(
          "the lease on the session for " + session.modelName() + " was returned");
    }
    return session.runLeased(feed, wanted);
  }

  /** Returns the claim; idempotent. */
  @Override
  public void close() {
    if (returned.compareAndSet(false, true)) {
      session.release();
    }
  }
}

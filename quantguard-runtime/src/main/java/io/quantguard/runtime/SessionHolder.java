package io.quantguard.runtime;

import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The session a server currently answers with, swappable while requests run. Every request takes a
 * {@link SessionLease} on the current session (or calls {@link #run}, which does so); {@link #swap}
 * installs the next session atomically and retires the previous one, which is released once the
 * requests that leased it have finished. A request that read the previous session just as it was
 * retired is moved to the new one before anything ran, so a swap fails no request and runs none
 * twice.
 *
 * <pre>{@code
 * SessionHolder model = new SessionHolder(InferenceSession.open(v1, config));
 * // request threads
 * try (SessionLease lease = model.lease()) {
 *   Map<String, Tensor> out = lease.run(feed);
 *   String answeredBy = lease.session().modelName();
 * }
 * // the rollout controller
 * model.swap(InferenceSession.open(v2, config));   // v1 is closed once its requests end
 * }</pre>
 */
public final class SessionHolder implements AutoCloseable {
  private final AtomicReference<InferenceSession> current;
  private final Duration drain;

  /** Holds {@code first}, retiring replaced sessions with {@link InferenceSession#DRAIN}. */
  public SessionHolder(InferenceSession first) {
    this(first, InferenceSession.DRAIN);
  }

  /**
   * Holds {@code first}; {@link #swap} and {@link #close} wait up to {@code drain} for the requests
   * of the session they retire.
   */
  public SessionHolder(InferenceSession first, Duration drain) {
    this.current = new AtomicReference<>(first);
    this.drain = drain;
  }

  /**
   * A lease on the current session.
   *
   * @throws SessionClosedException when the holder is closed
   */
  public SessionLease lease() {
    while (true) {
      InferenceSession s = current.get();
      if (s == null) {
        throw new SessionClosedException("the session holder is closed");
      }
      try {
        return s.lease();
      } catch (SessionClosedException e) {
        if (current.get() == s) {
          throw e; // closed by its owner, not retired by a swap
        }
        // retired by a swap between the read and the lease: take the new one
      }
    }
  }

  /** Runs on the current session with all outputs. */
  public Map<String, Tensor> run(Map<String, Tensor> feed) {
    try (SessionLease lease = lease()) {
      return lease.run(feed);
    }
  }

  /** Runs on the current session and returns the requested outputs. */
  public Map<String, Tensor> run(Map<String, Tensor> feed, Collection<String> wanted) {
    try (SessionLease lease = lease()) {
      return lease.run(feed, wanted);
    }
  }

  /**
   * Installs {@code next} for every request from now on and closes the session it replaces, waiting
   * up to the drain for that session's requests (its release is left to the last of them if they
   * take longer). The holder owns {@code next} from here.
   *
   * @return whether the replaced session was released by the time this returned
   * @throws IllegalStateException when the holder is closed ({@code next} stays the caller's)
   */
  public boolean swap(InferenceSession next) {
    InferenceSession previous = current.getAndUpdate(s -> s == null ? null : next);
    if (previous == null) {
      throw new IllegalStateException("the session holder is closed; it cannot take a new session");
    }
    return previous.close(drain);
  }

  /** Closes the current session as {@link #swap} closes a replaced one; idempotent. */
  @Override
  public void close() {
    InferenceSession last = current.getAndSet(null);
    if (last != null) {
      last.close(drain);
    }
  }
}

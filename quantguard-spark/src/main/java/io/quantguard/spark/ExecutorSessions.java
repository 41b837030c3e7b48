package io.quantguard.spark;

import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionLease;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * The ONNX Runtime sessions of one executor JVM, by id (a calibration plan's, a model's): the model
 * is parsed and its session opened once per executor and reused by every task and partition that
 * runs it (an ONNX Runtime session runs concurrent requests). The few most recent are kept; an
 * older one's session is closed once its running calls finish.
 */
final class ExecutorSessions {
  /** Enough for a baseline and a few candidates, or a calibration plan. */
  private static final int KEEP = 6;

  /** What an id opens to: a value read from the broadcast (a plan, a model) and its session. */
  record Opened<T>(T value, InferenceSession session) {}

  private record Entry(Opened<?> opened, AtomicBoolean warm) {}

  /**
   * A value with a lease on its session, which stays open until the lease is closed.
   *
   * @param firstUse whether this lease is the first on its session in this JVM (the caller may run
   *     it once untimed, so first-run initialization does not count as latency)
   */
  record Leased<T>(T value, SessionLease session, boolean firstUse) implements AutoCloseable {
    @Override
    public void close() {
      session.close();
    }
  }

  private static final Map<String, Entry> OPEN = new LinkedHashMap<>(8, 0.75f, true);

  private ExecutorSessions() {}

  @SuppressWarnings("unchecked")
  static synchronized <T> Leased<T> lease(String id, Supplier<Opened<T>> open) {
    Entry e = OPEN.get(id);
    if (e == null) {
      e = new Entry(open.get(), new AtomicBoolean());
      OPEN.put(id, e);
      if (OPEN.size() > KEEP) {
        Map.Entry<String, Entry> eldest = OPEN.entrySet().iterator().next();
        OPEN.remove(eldest.getKey());
        eldest.getValue().opened().session().close();
      }
    }
    Opened<T> o = (Opened<T>) e.opened();
    return new Leased<>(o.value(), o.session().lease(), e.warm().compareAndSet(false, true));
  }
}

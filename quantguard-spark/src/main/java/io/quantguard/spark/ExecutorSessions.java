package io.quantguard.spark;

import io.quantguard.quantize.CalibrationPlan;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.SessionLease;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The ONNX Runtime sessions of one executor JVM, by calibration plan: a plan's model is parsed and
 * its session opened once per executor and reused by every task and partition that runs it (an ONNX
 * Runtime session runs concurrent requests). The few most recent plans are kept; an older one's
 * session is closed once its running calls finish.
 */
final class ExecutorSessions {
  private static final int KEEP = 2;

  /** A plan with its open session. */
  private record Opened(CalibrationPlan plan, InferenceSession session) {}

  /** A plan with a lease on its session, which stays open until the lease is closed. */
  record Leased(CalibrationPlan plan, SessionLease session) implements AutoCloseable {
    @Override
    public void close() {
      session.close();
    }
  }

  private static final Map<String, Opened> OPEN = new LinkedHashMap<>(4, 0.75f, true);

  private ExecutorSessions() {}

  static synchronized Leased lease(
      String planId, Supplier<byte[]> planBytes, SessionConfig config) {
    Opened o = OPEN.get(planId);
    if (o == null) {
      CalibrationPlan plan;
      try {
        plan = CalibrationPlan.readFrom(new ByteArrayInputStream(planBytes.get()));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      o = new Opened(plan, InferenceSession.open(plan.model(), config, plan.outputs()));
      OPEN.put(planId, o);
      if (OPEN.size() > KEEP) {
        Map.Entry<String, Opened> eldest = OPEN.entrySet().iterator().next();
        OPEN.remove(eldest.getKey());
        eldest.getValue().session().close();
      }
    }
    return new Leased(o.plan(), o.session().lease());
  }
}

package io.quantguard.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import org.jspecify.annotations.Nullable;

/**
 * The process's one ONNX Runtime environment, created when the first session opens. ONNX Runtime
 * allows a single environment per process and sets up its global thread pools only when it creates
 * it, so this class remembers whether it did and with which thread counts: the first session
 * decides, a later one that asks for a different global pool is refused ({@link
 * SessionConfig.ThreadPool#GLOBAL}). That memory is process-wide state by necessity — it mirrors
 * state ONNX Runtime itself keeps per process.
 */
final class RuntimeEnvironment {
  private static final String NAME = "quantguard";
  private static final OrtLoggingLevel LOGGING = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR;

  /** Thread counts of the global pools. */
  private record GlobalPool(int intraOpThreads, int interOpThreads) {
    static GlobalPool of(SessionConfig c) {
      return new GlobalPool(c.intraOpThreads(), c.interOpThreads());
    }

    @Override
    public String toString() {
      return (intraOpThreads == 0 ? "all cores" : intraOpThreads)
          + " intra-op and "
          + interOpThreads
          + " inter-op threads";
    }
  }

  /** What the environment was created with; {@code pool} is null when it has no global pool. */
  private record Created(OrtEnvironment env, @Nullable GlobalPool pool) {}

  private static @Nullable Created created; // guarded by RuntimeEnvironment.class

  private RuntimeEnvironment() {}

  /**
   * The environment for a session with this configuration, creating it (with the global pools when
   * the configuration asks for them) if this is the first session of the process.
   *
   * @throws IllegalStateException when the configuration asks for a global pool the environment
   *     does not have
   */
  static synchronized OrtEnvironment forSession(SessionConfig config) {
    boolean global = config.threadPool() == SessionConfig.ThreadPool.GLOBAL;
    Created c = created;
    if (c == null) {
      c = global ? withGlobalPool(GlobalPool.of(config)) : new Created(plain(), null);
      created = c;
    }
    if (global && !GlobalPool.of(config).equals(c.pool())) {
      throw new IllegalStateException(
          "a session asks for the global thread pool with "
              + GlobalPool.of(config)
              + ", but this process's ONNX Runtime environment "
              + (c.pool() == null
                  ? "was created without a global thread pool (the first session opened in the"
                      + " process used threads of its own)"
                  : "has a global thread pool of " + c.pool())
              + ", and ONNX Runtime allows one environment per process: open every global-pool"
              + " session with the same thread counts, and before any other session");
    }
    return c.env();
  }

  /** The environment as it is, created without a global pool if no session opened yet. */
  static synchronized OrtEnvironment current() {
    Created c = created;
    if (c == null) {
      c = new Created(plain(), null);
      created = c;
    }
    return c.env();
  }

  private static OrtEnvironment plain() {
    return OrtEnvironment.getEnvironment(LOGGING, NAME);
  }

  private static Created withGlobalPool(GlobalPool pool) {
    try (OrtEnvironment.ThreadingOptions threads = new OrtEnvironment.ThreadingOptions()) {
      threads.setGlobalIntraOpNumThreads(pool.intraOpThreads());
      threads.setGlobalInterOpNumThreads(pool.interOpThreads());
      return new Created(OrtEnvironment.getEnvironment(LOGGING, NAME, threads), pool);
    } catch (OrtException e) {
      throw new IllegalStateException("cannot set up ONNX Runtime's global thread pool", e);
    } catch (IllegalStateException e) {
      throw new IllegalStateException(
          "cannot set up ONNX Runtime's global thread pool: something in this process created the"
              + " ONNX Runtime environment before QuantGuard opened its first session",
          e);
    }
  }
}

package io.quantguard.runtime;

import java.util.Locale;

/**
 * ONNX Runtime session options that QuantGuard always sets explicitly, so that a benchmark, a
 * calibration pass and a canary run each say exactly how they ran. Integer-kernel fusion of QDQ
 * pairs only happens at {@link Optimization#EXTENDED} or above, which is why {@link #defaults()}
 * uses ALL.
 *
 * <p>By default every session has its own thread pools, sized to all cores: two sessions in one
 * process (a baseline and its canary) then run twice as many threads as there are cores. Sessions
 * opened with {@link ThreadPool#GLOBAL} share the process's one global pool instead; see {@link
 * ThreadPool#GLOBAL} for the rule that decides its size.
 *
 * @param intraOpThreads threads inside one operator; 0 lets ONNX Runtime use every core. With
 *     {@link ThreadPool#GLOBAL}, the size of the global intra-op pool.
 * @param interOpThreads threads across independent operators (1 = sequential execution). With
 *     {@link ThreadPool#GLOBAL}, the size of the global inter-op pool.
 * @param threadPool whether the session runs on threads of its own or on the process's global pool
 */
public record SessionConfig(
    Optimization optimization,
    int intraOpThreads,
    int interOpThreads,
    Provider provider,
    ThreadPool threadPool)
    implements java.io.Serializable {

  /** Graph optimization level, as ONNX Runtime names them. */
  public enum Optimization {
    DISABLED,
    BASIC,
    EXTENDED,
    ALL;

    public static Optimization parse(String s) {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    }
  }

  /** Execution provider. CUDA needs the GPU build of ONNX Runtime on the class path. */
  public enum Provider {
    CPU,
    CUDA;

    public static Provider parse(String s) {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    }
  }

  /** Where a session's operators run. */
  public enum ThreadPool {
    /** Thread pools of the session's own, sized by {@link #intraOpThreads} and interOpThreads. */
    PER_SESSION,
    /**
     * The process's global thread pools, shared by every session opened this way, so a baseline and
     * a canary in one server divide the cores between them instead of oversubscribing them. ONNX
     * Runtime allows one environment per process and sets its global pools up only when the
     * environment is created, so the first session opened in the process decides: when it asks for
     * the global pool, the pool gets its thread counts; later sessions must ask for the same counts
     * (or use {@link #PER_SESSION}), else opening them fails with an {@link IllegalStateException}
     * that names both. When the first session in the process used per-session threads, there is no
     * global pool, and opening a global-pool session fails the same way: open the sessions that
     * share the pool first (a server does so at start).
     */
    GLOBAL
  }

  public SessionConfig {
    if (intraOpThreads < 0 || interOpThreads < 0) {
      throw new IllegalArgumentException("thread counts must be >= 0");
    }
    if (threadPool == null) {
      throw new IllegalArgumentException("threadPool must be PER_SESSION or GLOBAL");
    }
  }

  /** A configuration with thread pools of the session's own. */
  public SessionConfig(
      Optimization optimization, int intraOpThreads, int interOpThreads, Provider provider) {
    this(optimization, intraOpThreads, interOpThreads, provider, ThreadPool.PER_SESSION);
  }

  /** All optimizations, every core, sequential execution, CPU, per-session threads. */
  public static SessionConfig defaults() {
    return new SessionConfig(Optimization.ALL, 0, 1, Provider.CPU);
  }

  public SessionConfig withThreads(int intraOp) {
    return new SessionConfig(optimization, intraOp, interOpThreads, provider, threadPool);
  }

  public SessionConfig withOptimization(Optimization level) {
    return new SessionConfig(level, intraOpThreads, interOpThreads, provider, threadPool);
  }

  /** The same options on another thread pool (see {@link ThreadPool#GLOBAL}). */
  public SessionConfig withThreadPool(ThreadPool pool) {
    return new SessionConfig(optimization, intraOpThreads, interOpThreads, provider, pool);
  }

  @Override
  public String toString() {
    return "optimization="
        + optimization.name().toLowerCase(Locale.ROOT)
        + ", intra-op threads="
        + (intraOpThreads == 0 ? "all cores" : intraOpThreads)
        + ", inter-op threads="
        + interOpThreads
        + ", provider="
        + provider.name().toLowerCase(Locale.ROOT)
        + (threadPool == ThreadPool.GLOBAL ? ", on the process's global thread pool" : "");
  }
}

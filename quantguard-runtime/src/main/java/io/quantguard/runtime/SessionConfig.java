package io.quantguard.runtime;

import java.util.Locale;

/**
 * ONNX Runtime session options that QuantGuard always sets explicitly, so that a benchmark, a
 * calibration pass and a canary run each say exactly how they ran. Integer-kernel fusion of QDQ
 * pairs only happens at {@link Optimization#EXTENDED} or above, which is why {@link #defaults()}
 * uses ALL.
 *
 * @param intraOpThreads threads inside one operator; 0 lets ONNX Runtime use every core
 * @param interOpThreads threads across independent operators (1 = sequential execution)
 */
public record SessionConfig(
    Optimization optimization, int intraOpThreads, int interOpThreads, Provider provider) {

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

  public SessionConfig {
    if (intraOpThreads < 0 || interOpThreads < 0) {
      throw new IllegalArgumentException("thread counts must be >= 0");
    }
  }

  /** All optimizations, every core, sequential execution, CPU. */
  public static SessionConfig defaults() {
    return new SessionConfig(Optimization.ALL, 0, 1, Provider.CPU);
  }

  public SessionConfig withThreads(int intraOp) {
    return new SessionConfig(optimization, intraOp, interOpThreads, provider);
  }

  public SessionConfig withOptimization(Optimization level) {
    return new SessionConfig(level, intraOpThreads, interOpThreads, provider);
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
        + provider.name().toLowerCase(Locale.ROOT);
  }
}

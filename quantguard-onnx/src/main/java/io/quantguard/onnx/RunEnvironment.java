package io.quantguard.onnx;

import org.jspecify.annotations.Nullable;

/**
 * Where something ran: the QuantGuard and ONNX Runtime versions, Java, the OS and the CPU. Recorded
 * in quantized models (where they were calibrated: kernels can round differently on another runtime
 * version or CPU), evaluation reports and benchmarks, so a result can be reproduced or its
 * difference explained.
 *
 * @param quantguard {@link QuantGuard#VERSION}
 * @param onnxRuntime the ONNX Runtime version, or null where it was not loaded (a gate, the
 *     registry)
 * @param java version and vendor, e.g. {@code 17.0.15 (Debian)}
 * @param os name, version and architecture, e.g. {@code Linux 6.1.0 (amd64)}
 * @param cpus processors available to the JVM
 * @param cpuModel the CPU's model name where the OS says ({@link CpuFeatures#detectModelName}),
 *     else null
 */
public record RunEnvironment(
    String quantguard,
    @Nullable String onnxRuntime,
    String java,
    String os,
    int cpus,
    @Nullable String cpuModel) {

  /**
   * This process's environment.
   *
   * @param onnxRuntime the ONNX Runtime version as the runtime module reports it, or null where it
   *     is not used
   */
  public static RunEnvironment current(@Nullable String onnxRuntime) {
    return new RunEnvironment(
        QuantGuard.VERSION,
        onnxRuntime,
        System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")",
        System.getProperty("os.name")
            + " "
            + System.getProperty("os.version")
            + " ("
            + System.getProperty("os.arch")
            + ")",
        Runtime.getRuntime().availableProcessors(),
        CpuFeatures.detectModelName());
  }
}

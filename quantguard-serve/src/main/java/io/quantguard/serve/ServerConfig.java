package io.quantguard.serve;

import java.time.Duration;

/**
 * How the server listens and runs.
 *
 * @param host the address to bind; loopback unless the operator says otherwise
 * @param port 0 picks a free port
 * @param threads ONNX Runtime threads in all, split evenly over the served versions (each gets
 *     {@code max(1, threads / versions)} intra-op threads), so several versions do not
 *     oversubscribe the cores
 * @param maxBodyBytes the largest request body; a larger one is answered 413 before it is read
 * @param rejectNonFinite whether NaN and infinity in FP32 inputs are answered 400
 * @param drainTimeout how long closing waits for requests in flight
 * @param guard the bearer token that state-changing endpoints require
 */
public record ServerConfig(
    String host,
    int port,
    int threads,
    BatchPolicy batching,
    long maxBodyBytes,
    boolean rejectNonFinite,
    Duration drainTimeout,
    BearerTokenGuard guard) {

  public ServerConfig {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be 0-65535, not " + port);
    }
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, not " + threads);
    }
    if (maxBodyBytes < 1) {
      throw new IllegalArgumentException("max body size must be >= 1 byte");
    }
  }

  /**
   * 127.0.0.1:8080, every core, batching on (see {@link BatchPolicy#defaults()}), 64 MiB bodies,
   * NaN refused, 30 s to drain, no token (state-changing endpoints refuse everything).
   */
  public static ServerConfig defaults() {
    return new ServerConfig(
        "127.0.0.1",
        8080,
        Runtime.getRuntime().availableProcessors(),
        BatchPolicy.defaults(),
        64L << 20,
        true,
        Duration.ofSeconds(30),
        BearerTokenGuard.none());
  }

  public ServerConfig withPort(int p) {
    return new ServerConfig(
        host, p, threads, batching, maxBodyBytes, rejectNonFinite, drainTimeout, guard);
  }

  public ServerConfig withThreads(int t) {
    return new ServerConfig(
        host, port, t, batching, maxBodyBytes, rejectNonFinite, drainTimeout, guard);
  }

  public ServerConfig withBatching(BatchPolicy b) {
    return new ServerConfig(
        host, port, threads, b, maxBodyBytes, rejectNonFinite, drainTimeout, guard);
  }

  public ServerConfig withMaxBodyBytes(long n) {
    return new ServerConfig(host, port, threads, batching, n, rejectNonFinite, drainTimeout, guard);
  }

  public ServerConfig withGuard(BearerTokenGuard g) {
    return new ServerConfig(
        host, port, threads, batching, maxBodyBytes, rejectNonFinite, drainTimeout, g);
  }
}

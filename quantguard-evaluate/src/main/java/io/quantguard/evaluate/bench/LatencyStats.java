package io.quantguard.evaluate.bench;

/**
 * Latency of single inference calls at one batch size, in milliseconds. Percentiles are within 0.1
 * % (see {@link LatencyHistogram}); mean, minimum and maximum are exact.
 *
 * @param count number of calls measured
 */
public record LatencyStats(
    long count,
    double meanMs,
    double p50Ms,
    double p95Ms,
    double p99Ms,
    double minMs,
    double maxMs) {}

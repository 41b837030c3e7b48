package io.quantguard.serve;

/**
 * A closed drift window's headline numbers, the ones a rollout's policy can limit (keys {@code
 * drift_share}, {@code psi}, {@code overflow_rate}).
 *
 * @param samples samples the window compared with the reference
 * @param driftShare share of the profile's features that drifted by their deciding test
 *     (Evidently's dataset drift)
 * @param psi the largest PSI over the features
 * @param overflowRate share of FP32 activations outside the calibrated ranges; NaN when no overflow
 *     probe ran
 * @param overflowSamples samples the overflow probe ran
 */
public record DriftFigures(
    long samples, double driftShare, double psi, double overflowRate, long overflowSamples) {}

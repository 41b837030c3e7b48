/**
 * Drift monitoring and calibration coverage: is the traffic a model sees still like the data it was
 * checked on, and like the data its quantizer calibrated on?
 *
 * <ul>
 *   <li>{@link io.quantguard.evaluate.drift.ReferenceProfile} summarizes reference data per sample
 *       (input statistics, token counts and unknown-token rates, predicted classes, confidence,
 *       embedding norms) as a JSON document; {@link io.quantguard.evaluate.drift.DriftWindow}
 *       accumulates a window over the same features and compares it with the reference by
 *       Kolmogorov–Smirnov, chi-square, normed Wasserstein, Jensen–Shannon and PSI ({@link
 *       io.quantguard.evaluate.drift.DriftStatistics}, decided as {@link
 *       io.quantguard.evaluate.drift.DriftTests} says).
 *   <li>{@link io.quantguard.evaluate.drift.CalibrationRanges} reads the activation ranges back
 *       from a QDQ model; {@link io.quantguard.evaluate.drift.OverflowProbe} runs the FP32 model
 *       with those tensors exposed and {@link io.quantguard.evaluate.drift.OverflowMeter}
 *       accumulates the share of activations the quantized model clips — the earliest sign that
 *       traffic is unlike the calibration data.
 *   <li>{@link io.quantguard.evaluate.drift.Attribution} ranks drift and overflow series by how
 *       closely they follow a quality drop over windows.
 * </ul>
 *
 * <p>The accumulators ({@code DriftWindow}, {@code OverflowMeter}) follow the evaluation's
 * contract: {@code add}, {@code merge}, {@code result}; bounded memory; one per thread, merged, not
 * shared without a lock; {@code state()} and {@code restore} persist a window as JSON.
 */
@NullMarked
package io.quantguard.evaluate.drift;

import org.jspecify.annotations.NullMarked;

/**
 * Tuning: which layers are sensitive to quantization, and mixed precision that keeps only those in
 * higher precision.
 *
 * <p>Entry points: {@link io.quantguard.tune.SensitivityAnalysis} (quantizes one layer group at a
 * time and ranks them in a {@link io.quantguard.tune.SensitivityReport}) and {@link
 * io.quantguard.tune.Tuner} (searches for the cheapest mixed-precision recipe that passes a policy,
 * recording each {@link io.quantguard.tune.Trial}, and returns a {@link
 * io.quantguard.tune.TuneResult}).
 */
@NullMarked
package io.quantguard.tune;

import org.jspecify.annotations.NullMarked;

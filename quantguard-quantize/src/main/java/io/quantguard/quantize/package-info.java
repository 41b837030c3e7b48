/**
 * Quantization of ONNX models: static QDQ, dynamic, weight-only and FP16, with calibration.
 *
 * <p>Entry points: {@link io.quantguard.quantize.Recipe} (what to do, built in code with {@link
 * io.quantguard.quantize.Recipe#builder()} or read by {@link io.quantguard.quantize.RecipeIO}) and
 * {@link io.quantguard.quantize.Quantizer} (does it), which returns a {@link
 * io.quantguard.quantize.QuantizationResult} with its {@link
 * io.quantguard.quantize.QuantizationReport}. {@link io.quantguard.quantize.Calibration} and the
 * {@link io.quantguard.quantize.Calibrator}s turn observed {@link
 * io.quantguard.quantize.TensorStatistics} into {@link io.quantguard.quantize.QuantParams}; the
 * graph passes are package-private. Calibration that runs elsewhere (on the partitions of a
 * distributed data set) goes through {@link io.quantguard.quantize.CalibrationPlan} and {@link
 * io.quantguard.quantize.CalibrationAccumulator}, the path the local pass takes too.
 */
@NullMarked
package io.quantguard.quantize;

import org.jspecify.annotations.NullMarked;

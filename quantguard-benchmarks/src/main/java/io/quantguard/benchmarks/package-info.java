/**
 * Measurements of what QuantGuard's stages cost, run by hand ({@code quantguard-benchmarks/measure
 * NAME}) and never by {@code mvn verify}, which only compiles them. Each is a plain {@code main} in
 * the package it measures: {@code io.quantguard.quantize.CalibrationOverheadMeasurement}, {@code
 * io.quantguard.evaluate.EvaluationOverheadMeasurement}, {@code
 * io.quantguard.runtime.ThreadPoolMeasurement}. They time whole passes over real models for
 * minutes, alternating the variants they compare, which is not what JMH's microbenchmark harness is
 * for.
 */
@NullMarked
package io.quantguard.benchmarks;

import org.jspecify.annotations.NullMarked;

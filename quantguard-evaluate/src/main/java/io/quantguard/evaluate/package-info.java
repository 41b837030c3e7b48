/**
 * Evaluation against the FP32 baseline: tasks that turn raw outputs into predictions, mergeable
 * metrics and paired runs that produce an {@link io.quantguard.report.EvaluationReport}; benchmarks
 * of latency, throughput, memory and energy. Reports and policies live in {@code
 * io.quantguard.report}.
 *
 * <p>Entry points: {@link io.quantguard.evaluate.Evaluation} (runs the baseline and the candidate
 * on the same data and reports), {@link io.quantguard.evaluate.Tasks} (the {@link
 * io.quantguard.evaluate.Task} for a model, from a {@link io.quantguard.evaluate.TaskFactory}) and
 * {@link io.quantguard.evaluate.Slicer} (metrics per slice of the data).
 */
@NullMarked
package io.quantguard.evaluate;

import org.jspecify.annotations.NullMarked;

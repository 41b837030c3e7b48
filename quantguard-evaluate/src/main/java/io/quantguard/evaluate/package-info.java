/**
 * Evaluation against the FP32 baseline: tasks that turn raw outputs into predictions, mergeable
 * metrics and paired runs that produce an {@link io.quantguard.report.EvaluationReport}; benchmarks
 * of latency, throughput, memory and energy. Reports and policies live in {@code
 * io.quantguard.report}.
 */
package io.quantguard.evaluate;

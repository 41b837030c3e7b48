/**
 * Evaluation against the FP32 baseline: tasks that turn raw outputs into predictions, mergeable
 * metrics, benchmarks of latency, throughput, memory and energy, policies and reports.
 */
package io.quantguard.evaluate;

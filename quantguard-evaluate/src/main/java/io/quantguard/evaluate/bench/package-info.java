/**
 * {@code quantguard bench}: latency, throughput, session creation time, resident memory and size on
 * disk of several models measured side by side in one run, with each model's time compared to the
 * first model's round by round.
 *
 * <p>Entry points: {@link io.quantguard.evaluate.bench.BenchPlan} (what to measure), {@link
 * io.quantguard.evaluate.bench.Benchmark} (runs it), {@link
 * io.quantguard.evaluate.bench.BenchResult} (the figures, serializable to JSON) and {@link
 * io.quantguard.evaluate.bench.BenchTable} (the same as a text table).
 */
@NullMarked
package io.quantguard.evaluate.bench;

import org.jspecify.annotations.NullMarked;

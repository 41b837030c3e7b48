/**
 * Data for calibration, evaluation and benchmarks: IDX, NPY, protobuf tensors, images and text,
 * read in bounded batches.
 *
 * <p>Entry points: {@link io.quantguard.runtime.data.DataSpec} (parses a data specification and
 * opens it as a {@link io.quantguard.runtime.data.DataSource}), whose {@link
 * io.quantguard.runtime.data.BatchStream} yields {@link io.quantguard.runtime.data.Batch}es, with
 * {@link io.quantguard.runtime.data.Prefetch} to read ahead; {@link
 * io.quantguard.runtime.data.DataFingerprint} names the data a result was computed on.
 */
@NullMarked
package io.quantguard.runtime.data;

import org.jspecify.annotations.NullMarked;

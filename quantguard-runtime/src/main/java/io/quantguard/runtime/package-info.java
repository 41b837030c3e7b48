/**
 * ONNX Runtime behind one owner per native resource.
 *
 * <p>Entry points: {@link io.quantguard.runtime.SessionConfig} (threads, optimization level,
 * provider) and {@link io.quantguard.runtime.InferenceSession} (runs a model on {@link
 * io.quantguard.runtime.Tensor}s); {@link io.quantguard.runtime.SessionHolder} and {@link
 * io.quantguard.runtime.SessionLease} for a server that swaps sessions while other threads run them
 * (drain before close); {@link io.quantguard.runtime.ShapeProbe} for shapes the model does not
 * declare.
 */
@NullMarked
package io.quantguard.runtime;

import org.jspecify.annotations.NullMarked;

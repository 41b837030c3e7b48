/**
 * Quantization-aware training on the ONNX graph itself: the graph is translated into DJL operations
 * on the PyTorch engine ({@link io.quantguard.qat.TrainableGraph}), fake quantizers sit where the
 * static quantizer puts its QDQ pairs ({@link io.quantguard.qat.FakeQuantization}), a seeded loop
 * fine-tunes the weights ({@link io.quantguard.qat.FineTuning}) and the trained values go back into
 * the FP32 model for the normal quantization pass.
 *
 * <p>Only this module carries libtorch. Run it with {@code -Dai.djl.offline=true} (no telemetry
 * connection at engine start), {@code DJL_CACHE_DIR} where the native library may be unpacked and
 * {@code OMP_WAIT_POLICY=PASSIVE} on a loaded machine.
 */
@NullMarked
package io.quantguard.qat;

import org.jspecify.annotations.NullMarked;

/**
 * ONNX models without ONNX Runtime: reading, editing and writing the protobuf, and the vocabulary
 * every other module shares.
 *
 * <p>Entry points: {@link io.quantguard.onnx.ModelIO} (read and write a model, external data
 * included) giving an {@link io.quantguard.onnx.OnnxModel}, whose {@link io.quantguard.onnx.Graph}
 * of {@link io.quantguard.onnx.Node}s the quantization passes edit; {@link
 * io.quantguard.onnx.QuantizationProvenance} (how a model was quantized) and {@link
 * io.quantguard.onnx.RunEnvironment} (where); {@link io.quantguard.onnx.InvalidInputException}, the
 * error every module raises for input a user can fix.
 */
@NullMarked
package io.quantguard.onnx;

import org.jspecify.annotations.NullMarked;

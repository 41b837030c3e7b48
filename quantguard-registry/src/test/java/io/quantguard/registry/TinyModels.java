package io.quantguard.registry;

import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.proto.Onnx.GraphProto;
import io.quantguard.onnx.proto.Onnx.ModelProto;
import io.quantguard.onnx.proto.Onnx.NodeProto;
import io.quantguard.onnx.proto.Onnx.OperatorSetIdProto;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import io.quantguard.onnx.proto.Onnx.TensorShapeProto;
import io.quantguard.onnx.proto.Onnx.TypeProto;
import io.quantguard.onnx.proto.Onnx.ValueInfoProto;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Small real ONNX models made in the test: y = x · W with seeded weights, and its int8 peer. */
final class TinyModels {
  static final String TOOL = "0.1.0-test";

  private TinyModels() {}

  /** An FP32 MatMul model whose weights depend on {@code seed}. */
  static Path fp32(Path file, int seed) {
    return fp32(file, seed, 32);
  }

  static Path fp32(Path file, int seed, int width) {
    SplittableRandom rnd = new SplittableRandom(seed);
    TensorProto.Builder w =
        TensorProto.newBuilder().setName("W").setDataType(1).addDims(width).addDims(width);
    for (int i = 0; i < width * width; i++) {
      w.addFloatData((float) rnd.nextGaussian());
    }
    ModelProto m =
        ModelProto.newBuilder()
            .setIrVersion(8)
            .setProducerName("quantguard-registry-test")
            .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
            .setGraph(
                GraphProto.newBuilder()
                    .setName("tiny")
                    .addInput(vector("x", width))
                    .addOutput(vector("y", width))
                    .addInitializer(w)
                    .addNode(
                        NodeProto.newBuilder()
                            .setName("mm")
                            .setOpType("MatMul")
                            .addInput("x")
                            .addInput("W")
                            .addOutput("y")))
            .build();
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.write(file, m.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }

  /** Quantizes an FP32 file dynamically (no calibration data) as quantguard quantize would. */
  static Path dynamicInt8(Path fp32, Path out, String toolVersion) {
    var result =
        Quantizer.quantize(
            ModelIO.load(fp32),
            Recipe.defaults(Recipe.Mode.DYNAMIC),
            null,
            Quantizer.Options.defaults(toolVersion));
    ModelIO.save(result.model(), out);
    return out;
  }

  private static ValueInfoProto vector(String name, int width) {
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(
                    TypeProto.Tensor.newBuilder()
                        .setElemType(1)
                        .setShape(
                            TensorShapeProto.newBuilder()
                                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(1))
                                .addDim(
                                    TensorShapeProto.Dimension.newBuilder().setDimValue(width)))))
        .build();
  }
}

package io.quantguard.registry;

import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.QuantGuard;
import io.quantguard.onnx.QuantizationProvenance;
import io.quantguard.onnx.RunEnvironment;
import io.quantguard.onnx.proto.Onnx.GraphProto;
import io.quantguard.onnx.proto.Onnx.ModelProto;
import io.quantguard.onnx.proto.Onnx.NodeProto;
import io.quantguard.onnx.proto.Onnx.OperatorSetIdProto;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import io.quantguard.onnx.proto.Onnx.TensorShapeProto;
import io.quantguard.onnx.proto.Onnx.TypeProto;
import io.quantguard.onnx.proto.Onnx.ValueInfoProto;
import io.quantguard.report.Sha256;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Small real ONNX models made in the test: y = x · W with seeded weights, and copies that record
 * how they were quantized.
 */
final class TinyModels {
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

  /** A recipe as QuantGuard records it: canonical JSON of the resolved recipe. */
  static final String DYNAMIC_RECIPE = "{\"mode\":\"dynamic\"}";

  /** Where the recorded quantization ran: another machine than the one running the tests. */
  static final RunEnvironment ELSEWHERE =
      new RunEnvironment(
          QuantGuard.VERSION,
          "1.17.3",
          "21.0.2 (Eclipse Adoptium)",
          "Linux 5.15.0 (aarch64)",
          64,
          "Neoverse-V2");

  /** How a dynamic int8 model records that it was made (no calibration data). */
  static QuantizationProvenance dynamicProvenance() {
    return new QuantizationProvenance(
        QuantGuard.VERSION,
        DYNAMIC_RECIPE,
        Sha256.of(DYNAMIC_RECIPE),
        "dynamic",
        null,
        null,
        null,
        new QuantizationProvenance.Session("ALL", 0, 1, "CPU"),
        ELSEWHERE);
  }

  /**
   * A copy of a model that records {@code provenance}, as a quantized model does: the registry
   * reads the record, not the weights, so a tiny model stands in for a quantized one.
   */
  static Path recorded(Path model, Path out, QuantizationProvenance provenance) {
    OnnxModel m = ModelIO.load(model);
    provenance.write(m);
    ModelIO.save(m, out);
    return out;
  }

  /** A copy of a model with metadata entries set, as if another tool version had written them. */
  static Path withMetadata(Path model, Path out, Map<String, String> entries) {
    OnnxModel m = ModelIO.load(model);
    entries.forEach(m::putMetadata);
    ModelIO.save(m, out);
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

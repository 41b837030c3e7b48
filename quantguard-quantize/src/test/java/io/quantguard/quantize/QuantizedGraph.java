package io.quantguard.quantize;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.DataSource;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A tiny float graph quantized through {@link Quantizer} with a recipe written as YAML, and the
 * questions the pass tests ask of the result: which nodes exist, what an initializer holds, what
 * ONNX Runtime computes from it next to the float model.
 */
final class QuantizedGraph {
  private static final SessionConfig ONE_THREAD = SessionConfig.defaults().withThreads(1);

  final OnnxModel fp32;
  final OnnxModel model;
  final QuantizationReport report;

  private QuantizedGraph(OnnxModel fp32, QuantizationResult result) {
    this.fp32 = fp32;
    this.model = result.model();
    this.report = result.report();
  }

  /**
   * @param calibration null where the recipe quantizes nothing statically
   */
  static QuantizedGraph quantize(OnnxModel fp32, String recipeYaml, DataSource calibration) {
    Recipe recipe = RecipeIO.parse(recipeYaml, "test recipe");
    return new QuantizedGraph(
        fp32, Quantizer.quantize(fp32, recipe, calibration, Quantizer.Options.defaults()));
  }

  /** The rows of a float [rows.length, width] input {@code x}, as a tensor. */
  static Tensor rows(float[][] rows) {
    float[] flat = new float[rows.length * rows[0].length];
    for (int r = 0; r < rows.length; r++) {
      System.arraycopy(rows[r], 0, flat, r * rows[0].length, rows[0].length);
    }
    return Tensor.ofFloats(flat, rows.length, rows[0].length);
  }

  /** Calibration data: the rows as samples of input {@code x}, in one batch. */
  static DataSource calibration(float[][] rows) {
    return DataSource.of("samples", List.of(new Batch(Map.of("x", rows(rows)), null, null, 0)));
  }

  List<Node> nodes(String opType) {
    return model.graph().nodes().stream().filter(n -> n.opType().equals(opType)).toList();
  }

  /** The node that writes {@code tensor}. */
  Node producer(String tensor) {
    return model
        .graph()
        .producer(tensor)
        .orElseThrow(() -> new AssertionError("no node writes '" + tensor + "'"));
  }

  /** The QuantizeLinear that reads {@code tensor}. */
  Optional<Node> quantizerOf(String tensor) {
    return nodes("QuantizeLinear").stream().filter(n -> n.input(0).equals(tensor)).findFirst();
  }

  TensorProto initializer(String name) {
    return model.requireInitializer(name);
  }

  DataType type(String initializer) {
    return DataType.fromCode(initializer(initializer).getDataType());
  }

  long[] dims(String initializer) {
    return TensorCodec.dims(initializer(initializer));
  }

  float[] floats(String initializer) {
    return model.floats(initializer);
  }

  long[] ints(String initializer) {
    return TensorCodec.toLongs(initializer(initializer), model.externalData());
  }

  byte[] bytes(String initializer) {
    ByteBuffer b = TensorCodec.rawBytes(initializer(initializer), model.externalData());
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  /** The only output of {@code m} on input {@code x}, run by ONNX Runtime on one thread. */
  static float[] run(OnnxModel m, Tensor x) {
    try (InferenceSession s = InferenceSession.open(m, ONE_THREAD)) {
      return s.run(Map.of("x", x)).values().iterator().next().floats();
    }
  }

  /** x · W, row-major, in double. */
  static double[][] times(float[][] x, float[][] w) {
    double[][] y = new double[x.length][w[0].length];
    for (int r = 0; r < x.length; r++) {
      for (int c = 0; c < w[0].length; c++) {
        for (int k = 0; k < w.length; k++) {
          y[r][c] += (double) x[r][k] * w[k][c];
        }
      }
    }
    return y;
  }
}

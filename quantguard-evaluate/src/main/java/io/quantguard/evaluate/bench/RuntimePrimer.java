package io.quantguard.evaluate.bench;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorType;
import io.quantguard.onnx.proto.Onnx.GraphProto;
import io.quantguard.onnx.proto.Onnx.ModelProto;
import io.quantguard.onnx.proto.Onnx.NodeProto;
import io.quantguard.onnx.proto.Onnx.OperatorSetIdProto;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import java.util.Map;

/**
 * Pays ONNX Runtime's and the JVM's one-time costs before anything is measured, with a throwaway
 * one-node model (a Relu). Without it the first model's session creation time and memory growth
 * include the runtime's own set-up (kernel registries, allocators, class loading, the JIT compiling
 * the session code), which made the first of two identical models look 3× slower to open and 3×
 * bigger, and the first model is the baseline every ratio divides by.
 */
final class RuntimePrimer {
  private static final int SESSIONS = 20;
  private static final int RUNS = 50;

  private RuntimePrimer() {}

  static void prime(SessionConfig config) {
    GraphProto graph =
        GraphProto.newBuilder()
            .setName("primer")
            .addNode(NodeProto.newBuilder().setOpType("Relu").addInput("x").addOutput("y"))
            .addInput(TensorType.of(DataType.FLOAT, 1, 4).toValueInfo("x"))
            .addOutput(TensorType.of(DataType.FLOAT, 1, 4).toValueInfo("y"))
            .build();
    ModelProto proto =
        ModelProto.newBuilder()
            .setIrVersion(8)
            .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13))
            .setGraph(graph)
            .build();
    Map<String, Tensor> feed = Map.of("x", Tensor.ofFloats(new float[] {-1, 0, 1, 2}, 1, 4));
    OnnxModel model = OnnxModel.of(proto);
    for (int k = 0; k < SESSIONS; k++) {
      try (InferenceSession s = InferenceSession.open(model, config)) {
        for (int i = 0; i < RUNS; i++) {
          s.run(feed);
        }
      }
    }
  }
}

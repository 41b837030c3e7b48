package io.quantguard.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TinyGraphTest {
  @Test
  void buildsAModelOnnxRuntimeRunsAsWritten() throws Exception {
    float[][] w = {{1, 2, 3}, {4, 5, 6}};
    float[] b = {0.5f, -20f, 0.25f};
    OnnxModel m =
        TinyGraph.input("x", -1, 2)
            .gemm("fc", w, b)
            .relu("act")
            .transpose("t", 1, 0)
            .output("y")
            .model();
    assertThat(m.graph().nodes())
        .extracting(Node::opType)
        .containsExactly("Gemm", "Relu", "Transpose");
    assertThat(m.graph().nodes().get(2).outputs()).containsExactly("y");
    assertThat(m.graph().initializers()).containsOnlyKeys("fc.weight", "fc.bias");
    assertThat(m.graph().typeOf("y").orElseThrow().shape()).containsExactly(3, -1);

    float[] x = {1, -1, 2, 0.5f};
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession s = env.createSession(ModelIO.toBytes(m), new OrtSession.SessionOptions());
        OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {2, 2});
        OrtSession.Result r = s.run(Map.of("x", in))) {
      float[][] y = (float[][]) r.get(0).getValue();
      for (int row = 0; row < 2; row++) {
        for (int col = 0; col < 3; col++) {
          float v = x[2 * row] * w[0][col] + x[2 * row + 1] * w[1][col] + b[col];
          assertThat(y[col][row]).isCloseTo(Math.max(0, v), within(1e-6f));
        }
      }
    }
  }
}

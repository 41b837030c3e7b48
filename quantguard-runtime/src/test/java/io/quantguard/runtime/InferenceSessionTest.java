package io.quantguard.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorType;
import io.quantguard.onnx.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class InferenceSessionTest {
  private static final SessionConfig ONE_THREAD = SessionConfig.defaults().withThreads(1);

  static Tensor images(int n, long seed) {
    Random r = new Random(seed);
    float[] x = new float[n * 784];
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextFloat();
    }
    return Tensor.ofFloats(x, n, 1, 28, 28);
  }

  @Test
  void fileAndInMemorySessionsAgree() {
    Path cnn = TestModels.fashionCnn();
    Map<String, Tensor> feed = Map.of("image", images(3, 1));
    try (InferenceSession a = InferenceSession.open(cnn, ONE_THREAD);
        InferenceSession b = InferenceSession.open(ModelIO.load(cnn), ONE_THREAD)) {
      assertThat(a.inputs()).containsOnlyKeys("image");
      assertThat(a.inputs().get("image").elementType()).isEqualTo(DataType.FLOAT);
      float[] x = a.run(feed).get("logits").floats();
      float[] y = b.run(feed).get("logits").floats();
      assertThat(x).hasSize(30).containsExactly(y);
    }
  }

  @Test
  void exposesIntermediateTensors() {
    OnnxModel cnn = ModelIO.load(TestModels.fashionCnn());
    Node firstConv =
        cnn.graph().nodes().stream()
            .filter(n -> n.opType().equals("Conv"))
            .findFirst()
            .orElseThrow();
    String tensor = firstConv.output(0);
    try (InferenceSession s = InferenceSession.open(cnn, ONE_THREAD, java.util.List.of(tensor))) {
      Map<String, Tensor> out =
          s.run(Map.of("image", images(2, 2)), java.util.List.of(tensor, "logits"));
      assertThat(out.get(tensor).shape()).containsExactly(2, 32, 28, 28);
      assertThat(out.get("logits").shape()).containsExactly(2, 10);
    }
    assertThat(cnn.graph().outputNames()).containsExactly("logits");
  }

  @Test
  void namesTheInputWhenTypeOrShapeIsWrong() {
    try (InferenceSession s = InferenceSession.open(TestModels.fashionCnn(), ONE_THREAD)) {
      assertThatThrownBy(() -> s.run(Map.of("image", Tensor.ofLongs(new long[784], 1, 1, 28, 28))))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("'image'")
          .hasMessageContaining("int64")
          .hasMessageContaining("float");
      assertThatThrownBy(
              () -> s.run(Map.of("image", Tensor.ofFloats(new float[28 * 28], 1, 28, 28))))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("shape [1, 28, 28]");
      assertThatThrownBy(() -> s.run(Map.of("a", images(1, 0), "b", images(1, 0))))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("do not match the inputs");
    }
  }

  @Test
  void learnsTypesOfEveryIntermediateTensor() {
    OnnxModel bert = ModelIO.load(TestModels.miniLm());
    long[] ids = {101, 7592, 2088, 102};
    Map<String, Tensor> feed =
        Map.of(
            "input_ids", Tensor.ofLongs(ids, 1, 4),
            "attention_mask", Tensor.ofLongs(new long[] {1, 1, 1, 1}, 1, 4),
            "token_type_ids", Tensor.ofLongs(new long[4], 1, 4));
    Map<String, TensorType> types = ShapeProbe.learn(bert, feed, ONE_THREAD);
    assertThat(types.size()).isEqualTo(bert.graph().nodeOutputs().size());
    assertThat(types.get("last_hidden_state").shape()).containsExactly(1, 4, 384);
    assertThat(types.values().stream().filter(t -> t.elementType() == DataType.FLOAT).count())
        .isGreaterThan(100);
    ShapeProbe.annotate(bert, types);
    String someMatMul =
        bert.graph().nodes().stream()
            .filter(n -> n.opType().equals("MatMul"))
            .findFirst()
            .orElseThrow()
            .output(0);
    assertThat(bert.graph().typeOf(someMatMul))
        .map(TensorType::elementType)
        .contains(DataType.FLOAT);
  }

  /**
   * This JVM's environment was created by a session with threads of its own (GlobalThreadPoolTest
   * runs in another JVM), so it has no global pool to give.
   */
  @Test
  void aGlobalPoolSessionAfterAPerSessionOneIsRefusedWithTheReason() {
    Path cnn = TestModels.fashionCnn();
    try (InferenceSession first = InferenceSession.open(cnn, ONE_THREAD)) {
      SessionConfig global = ONE_THREAD.withThreadPool(SessionConfig.ThreadPool.GLOBAL);
      assertThatThrownBy(() -> InferenceSession.open(cnn, global))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("was created without a global thread pool")
          .hasMessageContaining("before any other session");
      assertThat(first.run(Map.of("image", images(1, 4))).get("logits").shape())
          .containsExactly(1, 10);
    }
  }

  @Test
  void runtimeVersionComesFromTheJarWithoutAnEnvironment() {
    assertThat(InferenceSession.runtimeVersion()).matches("\\d+\\.\\d+\\.\\d+.*");
  }

  @Test
  void doesNotLeakNativeMemoryOverTenThousandRuns() throws Exception {
    Path cnn = TestModels.fashionCnn();
    Map<String, Tensor> feed = Map.of("image", images(1, 3));
    try (InferenceSession s = InferenceSession.open(cnn, ONE_THREAD)) {
      for (int i = 0; i < 500; i++) {
        s.run(feed);
      }
      System.gc();
      long before = rssKb();
      for (int i = 0; i < 10_000; i++) {
        s.run(feed);
      }
      System.gc();
      long grown = rssKb() - before;
      // A leaked input tensor (3 KB) or result per run would add > 30 MB over 10,000 runs.
      assertThat(grown).as("RSS growth in KB over 10,000 runs").isLessThan(20_000);
    }
  }

  static long rssKb() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D", ""));
      }
    }
    throw new IllegalStateException("no VmRSS");
  }
}

package io.quantguard.qat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.TestModels;
import io.quantguard.onnx.TinyGraph;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The translated graph's forward pass against ONNX Runtime on the two reference models with real
 * inputs: the 2,000-image Fashion-MNIST sample through the CNN, Europarl sentences through
 * all-MiniLM-L6-v2. The largest difference must stay within 1e-5 of the output's largest magnitude.
 */
class TrainableGraphTest {

  @Test
  void cnnMatchesOnnxRuntimeOnTheSampleImages() {
    String data =
        "idx:" + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz") + "?input=image";
    double worst = worstRelativeDifference(TestModels.fashionCnn(), data, 500, "logits");
    System.out.printf("CNN: largest difference to ONNX Runtime %.3g of the largest logit%n", worst);
    assertThat(worst).isLessThan(1e-5);
  }

  @Test
  void miniLmMatchesOnnxRuntimeOnEuroparlSentences() {
    String data =
        "text:europarl?tokenizer=minilm-tokenizer&column=3&max_length=128&offset=0&limit=16";
    double worst = worstRelativeDifference(TestModels.miniLm(), data, 8, "last_hidden_state");
    System.out.printf(
        "MiniLM: largest difference to ONNX Runtime %.3g of the largest value%n", worst);
    assertThat(worst).isLessThan(1e-5);
  }

  @Test
  void anOperatorOutsideTheSetIsNamed() {
    OnnxModel m = TinyGraph.input("x", 1, 4).relu("r").model();
    m.graph().nodes().get(0).setOpType("LSTM");
    assertThatThrownBy(() -> TrainableGraph.builder(m).build())
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("LSTM (node r)")
        .hasMessageContaining("does not translate");
  }

  @Test
  void floatInitializersBecomeParametersUnlessFrozen() {
    OnnxModel cnn = ModelIO.load(TestModels.fashionCnn());
    try (TrainableGraph g = TrainableGraph.builder(cnn).build();
        TrainableGraph frozen = TrainableGraph.builder(cnn).frozen().build()) {
      assertThat(g.parameters()).hasSize(8);
      assertThat(g.parameters().values()).allMatch(NDArray::hasGradient);
      assertThat(frozen.parameters()).isEmpty();
    }
  }

  /**
   * A graph cleanup (QuantGuard's own, onnx-simplifier) turns Constant nodes into initializers: a
   * LayerNorm's Pow exponent or epsilon must not become a parameter, or the first optimizer step
   * moves the exponent off 2 and the negative bases give NaN.
   */
  @Test
  void oneElementInitializersStayConstants() {
    OnnxModel cnn = ModelIO.load(TestModels.fashionCnn());
    cnn.graph().putInitializer(TensorCodec.scalar("pow_exponent", 2f));
    cnn.graph()
        .putInitializer(TensorCodec.fromFloats("epsilon", new long[] {1}, new float[] {1e-12f}));
    try (TrainableGraph g = TrainableGraph.builder(cnn).build()) {
      assertThat(g.parameters()).hasSize(8).doesNotContainKeys("pow_exponent", "epsilon");
    }
  }

  static double worstRelativeDifference(Path model, String data, int batch, String output) {
    OnnxModel m = ModelIO.load(model);
    double worstDiff = 0;
    double largest = 0;
    try (InferenceSession ort = InferenceSession.open(model, SessionConfig.defaults());
        TrainableGraph g = TrainableGraph.builder(m).frozen().build();
        BatchStream s = DataSpec.parse(data).open(batch)) {
      while (s.hasNext()) {
        Batch b = s.next();
        float[] expected = ort.run(b.inputs()).get(output).floats();
        float[] actual;
        try (NDScope scope = new NDScope();
            NDManager local = g.manager().newSubManager()) {
          Map<String, NDArray> in = new LinkedHashMap<>();
          for (Map.Entry<String, Tensor> e : b.inputs().entrySet()) {
            in.put(e.getKey(), Values.toArray(local, e.getValue()));
          }
          actual = g.forward(in).get(output).toFloatArray();
        }
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < actual.length; i++) {
          worstDiff = Math.max(worstDiff, Math.abs(actual[i] - expected[i]));
          largest = Math.max(largest, Math.abs(expected[i]));
        }
      }
    }
    return worstDiff / largest;
  }
}

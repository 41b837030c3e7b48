package io.quantguard.qat;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import io.quantguard.onnx.DataType;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.ActivationRanges;
import io.quantguard.quantize.Calibration;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Quantization-aware training of the Fashion-MNIST CNN at W4A8 (the shipped recipe): the fake
 * quantizers sit where the static pass put its QDQ pairs and compute what ONNX Runtime computes on
 * its output, a short fine-tune lowers the loss, a seed gives the same weights twice, and the
 * trained weights go back into the FP32 model for the normal pass.
 */
class FineTuningTest {
  private static OnnxModel fp32;
  private static Recipe recipe;
  private static OnnxModel ptq;
  private static FakeQuantization quantizers;

  @BeforeAll
  static void quantizeOnce() {
    fp32 = ModelIO.load(TestModels.fashionCnn());
    recipe = RecipeIO.read(Path.of("..", "recipes", "cnn-w4a8.yaml"));
    Calibration calibration =
        Quantizer.calibrate(
            fp32,
            recipe,
            Classifier.sample("train-images-idx3-ubyte.gz", 500),
            Quantizer.Options.defaults());
    ptq = Quantizer.quantize(calibration, recipe, Quantizer.Options.defaults()).model();
    quantizers =
        FakeQuantization.of(
            Quantizer.staticPlan(calibration, recipe), ActivationRanges.calibrated(calibration));
  }

  @Test
  void fakeQuantizersComputeWhatOnnxRuntimeComputesOnTheQuantizedModel() {
    FakeQuantization fq = quantizers;
    System.out.println("weights " + fq.weights() + ", activations " + fq.activations().keySet());
    assertThat(fq.weights()).hasSize(4);
    assertThat(fq.weights().values())
        .allMatch(w -> w.scheme().type() == DataType.INT4 && w.scheme().symmetric());
    assertThat(fq.activations()).isNotEmpty();
    var test = Classifier.sample("t10k-images-idx3-ubyte.gz", 2000);
    double ort = Classifier.onnxRuntime(ptq, test);
    double engine;
    try (TrainableGraph g = TrainableGraph.builder(fp32).frozen().fakeQuantization(fq).build()) {
      engine = Classifier.engine(g, test);
    }
    System.out.printf(
        "W4A8 PTQ on 2,000 test images: ONNX Runtime %.4f, engine %.4f%n", ort, engine);
    assertThat(engine).isCloseTo(ort, org.assertj.core.data.Offset.offset(0.0025));
  }

  @Test
  void aSeededFineTuneLowersTheLossAndRepeatsExactly() {
    FakeQuantization fq = quantizers;
    Map<String, float[]> first = new LinkedHashMap<>();
    double[] losses = new double[2];
    FineTuning.Result r = train(fq, first, losses);
    Map<String, float[]> second = new LinkedHashMap<>();
    train(fq, second, new double[2]);
    System.out.printf(
        "60 steps: %s; loss on the 2,000 training images %.4f -> %.4f%n", r, losses[0], losses[1]);
    assertThat(r.steps()).isEqualTo(60);
    assertThat(losses[1]).isLessThan(losses[0]);
    for (String name : first.keySet()) {
      assertThat(second.get(name)).as(name).containsExactly(first.get(name));
      assertThat(first.get(name)).as(name).isNotEqualTo(fp32.floats(name));
    }
  }

  private static FineTuning.Result train(
      FakeQuantization fq, Map<String, float[]> weights, double[] losses) {
    var data = Classifier.sample("train-images-idx3-ubyte.gz", 2000);
    try (TrainableGraph g = TrainableGraph.builder(fp32).fakeQuantization(fq).build()) {
      losses[0] = Classifier.loss(g, data);
      FineTuning.Result r =
          FineTuning.builder(g)
              .data(Classifier.sample("train-images-idx3-ubyte.gz", 2000))
              .output("logits")
              .batchSize(32)
              .maxSteps(60)
              .learningRate(1e-4f)
              .seed(7)
              .run();
      losses[1] = Classifier.loss(g, data);
      for (Map.Entry<String, NDArray> p : g.parameters().entrySet()) {
        weights.put(p.getKey(), p.getValue().toFloatArray());
      }
      return r;
    }
  }

  @Test
  void trainedWeightsGoBackIntoTheFp32Model() {
    FakeQuantization fq = quantizers;
    OnnxModel trained = fp32.copy();
    try (TrainableGraph g = TrainableGraph.builder(fp32).fakeQuantization(fq).build()) {
      FineTuning.builder(g)
          .data(Classifier.sample("train-images-idx3-ubyte.gz", 2000))
          .output("logits")
          .maxSteps(20)
          .learningRate(1e-3f)
          .run();
      g.writeTo(trained);
      for (Map.Entry<String, NDArray> p : g.parameters().entrySet()) {
        assertThat(trained.floats(p.getKey())).containsExactly(p.getValue().toFloatArray());
        assertThat(Arrays.equals(trained.floats(p.getKey()), fp32.floats(p.getKey()))).isFalse();
      }
    }
  }

  @Test
  void theExportedModelComputesWhatTheTrainingComputed() {
    QuantizationAwareTraining.Result r =
        QuantizationAwareTraining.builder(fp32, recipe)
            .data(Classifier.sample("train-images-idx3-ubyte.gz", 2000))
            .calibration(Classifier.sample("train-images-idx3-ubyte.gz", 500))
            .batchSize(32)
            .maxSteps(60)
            .learningRate(1e-4f)
            .seed(7)
            .run();
    var test = Classifier.sample("t10k-images-idx3-ubyte.gz", 2000);
    OnnxModel exported = r.quantized().model();
    double ort = Classifier.onnxRuntime(exported, test);
    double engine;
    try (TrainableGraph g =
        TrainableGraph.builder(r.trained()).frozen().fakeQuantization(r.quantization()).build()) {
      engine = Classifier.engine(g, test);
    }
    double ptqAccuracy = Classifier.onnxRuntime(ptq, test);
    System.out.printf(
        "60 QAT steps, exported on 2,000 test images: ONNX Runtime %.4f, engine %.4f (PTQ %.4f)%n",
        ort, engine, ptqAccuracy);
    // the activation scales are the ones the training used, not re-calibrated on trained weights
    assertThat(scales(r.quantization())).isEqualTo(scales(quantizers));
    assertThat(engine).isCloseTo(ort, org.assertj.core.data.Offset.offset(0.0025));
    assertThat(
            exported.graph().initializers().values().stream()
                .filter(t -> t.getDataType() == DataType.INT4.code())
                .filter(t -> t.getName().endsWith("_quantized")))
        .hasSize(4);
    assertThat(exported.metadata().get(QuantizationAwareTraining.METADATA_KEY))
        .contains("\"steps\":60", "\"seed\":7", "\"learning_rate\":1.0E-4");
  }

  private static Map<String, String> scales(FakeQuantization fq) {
    Map<String, String> out = new LinkedHashMap<>();
    fq.activations()
        .forEach((t, p) -> out.put(t, Arrays.toString(p.scale()) + Arrays.toString(p.zeroPoint())));
    return out;
  }
}

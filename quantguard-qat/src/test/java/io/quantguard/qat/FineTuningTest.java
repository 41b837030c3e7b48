package io.quantguard.qat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.quantguard.onnx.DataType;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.ActivationRanges;
import io.quantguard.quantize.Calibration;
import io.quantguard.quantize.QuantParams;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.quantize.Scheme;
import io.quantguard.runtime.data.DataSource;
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

  /**
   * A learning rate that blows the weights up stops the run at the step the loss left the reals.
   */
  @Test
  void aLossThatIsNoLongerFiniteStopsTheRunNamingTheLearningRate() {
    try (TrainableGraph g = TrainableGraph.builder(fp32).build()) {
      assertThatThrownBy(
              () ->
                  FineTuning.builder(g)
                      .data(Classifier.sample("train-images-idx3-ubyte.gz", 2000))
                      .output("logits")
                      .batchSize(32)
                      .maxSteps(40)
                      .learningRate(1e12f)
                      .seed(7)
                      .run())
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("learning rate")
          .hasMessageContaining("at step")
          .hasMessageContaining("lower learning rate");
    }
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
  void fourBitActivationGridsComputeWhatOnnxRuntimeComputes() {
    Recipe w4a4 = RecipeIO.read(Path.of("..", "recipes", "cnn-w4a4.yaml"));
    Calibration calibration =
        Quantizer.calibrate(
            fp32,
            w4a4,
            Classifier.sample("train-images-idx3-ubyte.gz", 500),
            Quantizer.Options.defaults());
    OnnxModel quantized =
        Quantizer.quantize(calibration, w4a4, Quantizer.Options.defaults()).model();
    FakeQuantization fq =
        FakeQuantization.of(
            Quantizer.staticPlan(calibration, w4a4), ActivationRanges.calibrated(calibration));
    assertThat(fq.activations().values()).allMatch(p -> p.scheme().qmax() == 15);
    var test = Classifier.sample("t10k-images-idx3-ubyte.gz", 2000);
    double ort = Classifier.onnxRuntime(quantized, test);
    double engine;
    try (TrainableGraph g = TrainableGraph.builder(fp32).frozen().fakeQuantization(fq).build()) {
      engine = Classifier.engine(g, test);
    }
    System.out.printf(
        "W4A4 PTQ on 2,000 test images: ONNX Runtime %.4f, engine %.4f%n", ort, engine);
    // 4 images apart while the engine kept biases in float: with 4-bit input scales the export's
    // int32 bias rounds 17 times coarser than at 8 bits
    assertThat(engine).isCloseTo(ort, org.assertj.core.data.Offset.offset(0.001));
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
    QuantizationAwareTraining.Result r = sixtySteps(false);
    var test = Classifier.sample("t10k-images-idx3-ubyte.gz", 2000);
    OnnxModel exported = r.quantized().model();
    double ort = Classifier.onnxRuntime(exported, test);
    double engine = engineAccuracy(r, test);
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

  /**
   * A recipe with SmoothQuant trains the smoothed graph (a Mul in front of each Gemm, its weight
   * rows scaled), so the export quantizes the weights the training saw and computes what the
   * training computed.
   */
  @Test
  void aSmoothedRecipeTrainsTheSmoothedGraph() {
    Recipe smoothed = recipe.toBuilder().smooth(0.5).build();
    QuantizationAwareTraining.Result r = thirtySteps(smoothed);
    var test = Classifier.sample("t10k-images-idx3-ubyte.gz", 2000);
    double ort = Classifier.onnxRuntime(r.quantized().model(), test);
    double engine = engineAccuracy(r, test);
    System.out.printf(
        "30 QAT steps, smoothed recipe, on 2,000 test images: ONNX Runtime %.4f, engine %.4f%n",
        ort, engine);
    assertThat(r.trained().graph().nodes())
        .filteredOn(n -> n.opType().equals("Mul") && n.name().endsWith("_Smooth"))
        .hasSize(2);
    assertThat(r.quantized().recipe().smooth()).isNull();
    assertThat(engine).isCloseTo(ort, org.assertj.core.data.Offset.offset(0.0025));
    assertThat(ort).isGreaterThan(0.85);
  }

  /**
   * A mixed recipe trains its static nodes through their fake quantizers and its dynamic node's
   * weights in float; the export quantizes the dynamic node at run time, as PTQ of that recipe
   * would, so the static part is all that QAT places quantizers for.
   */
  @Test
  void aMixedRecipeTrainsTheStaticPartAndExportsTheDynamicNodeQuantizedAtRunTime() {
    Recipe mixed =
        RecipeIO.parse(
            "mode: static\n"
                + "weights: {type: int4, symmetric: true, per_channel: true, method: minmax}\n"
                + "activations: {type: uint8, symmetric: false, method: minmax}\n"
                + "overrides:\n"
                + "  - {node: /net/f1/Gemm, mode: dynamic, activations: {per_token: true},"
                + " weights: {type: int8}}\n",
            "mixed");
    QuantizationAwareTraining.Result r = thirtySteps(mixed);
    var test = Classifier.sample("t10k-images-idx3-ubyte.gz", 2000);
    double ort = Classifier.onnxRuntime(r.quantized().model(), test);
    System.out.printf(
        "30 QAT steps, static W4A8 with /net/f1/Gemm dynamic per token: ONNX Runtime %.4f%n", ort);
    assertThat(r.quantization().weights()).hasSize(3).doesNotContainKey(gemmWeight("/net/f1/Gemm"));
    String w = gemmWeight("/net/f1/Gemm");
    assertThat(r.trained().floats(w)).isNotEqualTo(fp32.floats(w));
    assertThat(r.quantized().model().graph().nodes())
        .filteredOn(n -> n.opType().equals("MatMulIntegerToFloat"))
        .hasSize(1);
    assertThat(r.quantized().report().quantizedNodesByOp()).containsEntry("Gemm", 2);
    assertThat(ort).isGreaterThan(0.85);
  }

  /** 30 seeded steps on 2,000 training images, calibrated on 500. */
  private static QuantizationAwareTraining.Result thirtySteps(Recipe r) {
    return QuantizationAwareTraining.builder(fp32, r)
        .data(Classifier.sample("train-images-idx3-ubyte.gz", 2000))
        .calibration(Classifier.sample("train-images-idx3-ubyte.gz", 500))
        .batchSize(32)
        .maxSteps(30)
        .learningRate(1e-4f)
        .seed(7)
        .run();
  }

  private static String gemmWeight(String node) {
    return fp32.graph().nodes().stream()
        .filter(n -> n.name().equals(node))
        .findFirst()
        .orElseThrow()
        .input(1);
  }

  @Test
  void learnedStepSizesFollowTheLsqGradient() {
    String tensor = quantizers.activations().keySet().iterator().next();
    QuantParams p = quantizers.activations().get(tensor);
    Scheme s = p.scheme();
    float step = p.scale()[0];
    int z = p.zeroPoint()[0];
    // values across the grid, between its points and beyond both ends
    float[] x = new float[40];
    for (int i = 0; i < x.length; i++) {
      x[i] = (s.qmin() - z - 3 + (s.qmax() - s.qmin() + 6) * i / (float) (x.length - 1)) * step;
    }
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray stepArray = m.create(step);
      stepArray.setRequiresGradient(true);
      NDArray in = m.create(x, new Shape(2, 20));
      in.setRequiresGradient(true);
      float[] out;
      try (GradientCollector gc = m.getEngine().newGradientCollector()) {
        NDArray y = quantizers.learningRanges().activation(tensor, in, stepArray);
        out = y.toFloatArray();
        gc.backward(y.sum());
      }
      double g = 1 / Math.sqrt(20.0 * s.qmax());
      double expected = 0;
      float[] dx = in.getGradient().toFloatArray();
      for (int i = 0; i < x.length; i++) {
        double v = x[i] / step;
        double q = Math.rint(v) + z;
        boolean inside = q >= s.qmin() && q <= s.qmax();
        double clipped = Math.max(s.qmin(), Math.min(s.qmax(), q));
        assertThat(out[i]).isCloseTo((float) ((clipped - z) * step), within(1e-6f));
        expected += inside ? Math.rint(v) - v : clipped - z;
        assertThat(dx[i]).as("∂x̂/∂x at %s", x[i]).isCloseTo(inside ? 1f : 0f, within(1e-6f));
      }
      assertThat((double) stepArray.getGradient().getFloat())
          .isCloseTo(g * expected, within(1e-4 * Math.abs(g * expected) + 1e-6));
    }
  }

  @Test
  void learnedStepSizesTrainAndTheExportWritesThem() {
    QuantizationAwareTraining.Result r = sixtySteps(true);
    var test = Classifier.sample("t10k-images-idx3-ubyte.gz", 2000);
    OnnxModel exported = r.quantized().model();
    double ort = Classifier.onnxRuntime(exported, test);
    double engine = engineAccuracy(r, test);
    System.out.printf(
        "60 QAT steps with learned step sizes, on 2,000 test images: ONNX Runtime %.4f, engine"
            + " %.4f; scales %s -> %s%n",
        ort, engine, scales(quantizers), scales(r.quantization()));
    Map<String, QuantParams> before = quantizers.activations();
    Map<String, QuantParams> after = r.quantization().activations();
    assertThat(after.keySet()).isEqualTo(before.keySet());
    long moved =
        after.keySet().stream()
            .filter(t -> after.get(t).scale()[0] != before.get(t).scale()[0])
            .count();
    assertThat(moved).isGreaterThanOrEqualTo(after.size() / 2);
    assertThat(after.keySet())
        .allMatch(t -> Arrays.equals(after.get(t).zeroPoint(), before.get(t).zeroPoint()));
    // the exported quantizers carry the learned scales
    for (var n : exported.graph().nodes()) {
      if (n.opType().equals("QuantizeLinear") && after.containsKey(n.input(0))) {
        assertThat(exported.floats(n.input(1))[0]).isEqualTo(after.get(n.input(0)).scale()[0]);
      }
    }
    assertThat(engine).isCloseTo(ort, org.assertj.core.data.Offset.offset(0.0025));
    assertThat(exported.metadata().get(QuantizationAwareTraining.METADATA_KEY))
        .contains("learned step sizes (LSQ)");
  }

  private static Map<String, String> scales(FakeQuantization fq) {
    Map<String, String> out = new LinkedHashMap<>();
    fq.activations()
        .forEach((t, p) -> out.put(t, Arrays.toString(p.scale()) + Arrays.toString(p.zeroPoint())));
    return out;
  }

  /** 60 QAT steps of batch 32 on 2,000 training images, seed 7, ranges frozen or learned. */
  private static QuantizationAwareTraining.Result sixtySteps(boolean learnRanges) {
    return QuantizationAwareTraining.builder(fp32, recipe)
        .data(Classifier.sample("train-images-idx3-ubyte.gz", 2000))
        .calibration(Classifier.sample("train-images-idx3-ubyte.gz", 500))
        .learnRanges(learnRanges)
        .batchSize(32)
        .maxSteps(60)
        .learningRate(1e-4f)
        .seed(7)
        .run();
  }

  /** The trained model's accuracy in the training engine, fake-quantized as it was trained. */
  private static double engineAccuracy(QuantizationAwareTraining.Result r, DataSource test) {
    try (TrainableGraph g =
        TrainableGraph.builder(r.trained()).frozen().fakeQuantization(r.quantization()).build()) {
      return Classifier.engine(g, test);
    }
  }
}

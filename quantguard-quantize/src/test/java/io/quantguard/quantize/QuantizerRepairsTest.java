package io.quantguard.quantize;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.quantguard.onnx.CpuFeatures;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TestModels;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SentenceEmbeddings;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two accuracy repairs of static quantization on the reference models, through ONNX Runtime:
 * SmoothQuant migration on all-MiniLM-L6-v2 with every MatMul in int8 (calibrated on 200 Europarl
 * texts, compared with FP32 on 300 others by the mean embedding cosine), and bias correction on the
 * Fashion-MNIST CNN at W4A8 (all 10,000 test images). Pins what was measured, in both directions,
 * including where a repair does not help.
 */
class QuantizerRepairsTest {
  private static final String MINILM_BASE =
      """
      mode: static
      op_types: [MatMul, Gather]
      activations: {type: uint8, symmetric: false, method: mse}
      weights: {type: int8, symmetric: true, per_channel: true, method: minmax}
      calibration: {samples: 200}
      """;
  private static final String DOWN = "'/layer\\.\\d+/output/dense/MatMul'";

  @TempDir Path tmp;

  private static String europarl(int offset, int limit) {
    return "text:europarl?tokenizer=minilm-tokenizer&column=3&max_length=128&offset="
        + offset
        + "&limit="
        + limit;
  }

  private double cosine(Calibration cal, String recipe, String file) {
    QuantizationResult r =
        Quantizer.quantize(cal, RecipeIO.parse(recipe, file), Quantizer.Options.defaults());
    Path out = tmp.resolve(file);
    ModelIO.save(r.model(), out);
    return SentenceEmbeddings.meanCosine(TestModels.miniLm(), out, europarl(500, 300));
  }

  @Test
  void smoothQuantLetsEveryMiniLmMatMulRunInInt8() throws Exception {
    OnnxModel fp32 = ModelIO.load(TestModels.miniLm());
    Calibration cal =
        Quantizer.calibrate(
            fp32,
            RecipeIO.parse(MINILM_BASE, "base"),
            DataSpec.parse(europarl(0, 200)),
            Quantizer.Options.defaults());
    double plain = cosine(cal, MINILM_BASE, "plain.onnx");
    double down50 =
        cosine(
            cal, MINILM_BASE + "overrides: [{node_regex: " + DOWN + ", smooth: 0.5}]", "d50.onnx");
    double down75 =
        cosine(
            cal, MINILM_BASE + "overrides: [{node_regex: " + DOWN + ", smooth: 0.75}]", "d75.onnx");
    double all50 = cosine(cal, MINILM_BASE + "smooth: 0.5", "a50.onnx");
    double all75 = cosine(cal, MINILM_BASE + "smooth: 0.75", "a75.onnx");
    System.out.printf(
        Locale.ROOT,
        "MiniLM static int8, every MatMul: cosine %.5f; smoothed FFN down-projections α 0.5 %.5f,"
            + " α 0.75 %.5f; every MatMul smoothed α 0.5 %.5f, α 0.75 %.5f%n",
        plain,
        down50,
        down75,
        all50,
        all75);
    // Measured 0.98970; the shipped recipe (down-projections in float) reaches 0.99376. On a CPU
    // without VNNI, whose uint8 x int8 kernels saturate in 16 bits, every figure is lower:
    // 0.98611 plain, 0.99261 and 0.96821 for every MatMul smoothed at α 0.75 and 0.5 (AVX2 only,
    // AMD EPYC); the differences the repairs make keep their sign and size.
    boolean saturates = CpuFeatures.detect().u8s8Saturates();
    assertThat(plain).isBetween(saturates ? 0.984 : 0.988, saturates ? 0.988 : 0.991);
    // Smoothing every MatMul at α 0.75: 0.99484, the only setting that beats keeping the six
    // down-projections in float. At α 0.5 the GELU outliers still dominate the min/max range
    // a smoothed input must use (instead of the MSE range): worse than no smoothing.
    assertThat(all75).isBetween(saturates ? 0.9910 : 0.9935, saturates ? 0.9940 : 0.9960);
    assertThat(all75 - plain).isGreaterThan(0.004);
    assertThat(all50).isBetween(saturates ? 0.964 : 0.972, saturates ? 0.972 : 0.981);
    // Down-projections alone: α 0.75 0.99094 (+0.0012), α 0.5 0.97039.
    assertThat(down75 - plain).isBetween(0.0003, 0.003);
    assertThat(down50).isBetween(0.965, 0.975);

    // ONNX Runtime still fuses every smoothed QDQ MatMul: the Mul runs in float before the
    // QuantizeLinear.
    Path smoothed = tmp.resolve("a75.onnx");
    Map<String, Integer> ops = optimizedOps(smoothed);
    Map<String, Integer> plainOps = optimizedOps(tmp.resolve("plain.onnx"));
    System.out.println(
        "ONNX Runtime (EXTENDED) kernels, smoothed: " + ops + ", plain: " + plainOps);
    // 36 weight and 12 attention products, all integer kernels in both models.
    assertThat(integerMatMuls(ops)).isEqualTo(48).isEqualTo(integerMatMuls(plainOps));
    assertThat(ops).doesNotContainKey("MatMul");
    long muls =
        ModelIO.load(smoothed).graph().nodes().stream()
            .filter(n -> n.name().endsWith("_Smooth"))
            .count();
    assertThat(muls).isEqualTo(36);
  }

  private static int integerMatMuls(Map<String, Integer> ops) {
    return ops.getOrDefault("MatMulIntegerToFloat", 0) + ops.getOrDefault("QLinearMatMul", 0);
  }

  /** Operator counts of the graph ONNX Runtime runs after its EXTENDED optimizations. */
  private Map<String, Integer> optimizedOps(Path model) throws Exception {
    Path out = tmp.resolve(model.getFileName() + ".optimized.onnx");
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.EXTENDED_OPT);
      o.setOptimizedModelFilePath(out.toString());
      o.setIntraOpNumThreads(1);
      try (OrtSession s = env.createSession(model.toString(), o)) {
        s.getInputNames();
      }
    }
    Map<String, Integer> ops = new TreeMap<>();
    for (Node n : ModelIO.load(out).graph().nodes()) {
      ops.merge(n.opType(), 1, Integer::sum);
    }
    return ops;
  }

  @Test
  void biasCorrectionOnTheW4A8Cnn() {
    OnnxModel cnn = ModelIO.load(TestModels.fashionCnn());
    Calibration cal =
        Quantizer.calibrate(
            cnn,
            RecipeIO.parse("{}", "r"),
            Accuracy.calibrationImages(1000),
            Quantizer.Options.defaults());
    double[] fp32Logits = meanLogits(cnn);
    String[] weights = {
      "{type: int4, symmetric: true, method: minmax", "{type: int4, symmetric: false, method: mse"
    };
    double[][] measured = new double[2][2];
    double[][] shift = new double[2][2];
    for (int w = 0; w < 2; w++) {
      for (int bc = 0; bc < 2; bc++) {
        String recipe = "weights: " + weights[w] + (bc == 1 ? ", bias_correction: true}" : "}");
        QuantizationResult r =
            Quantizer.quantize(cal, RecipeIO.parse(recipe, "r"), Quantizer.Options.defaults());
        measured[w][bc] = Accuracy.of(r.model());
        double[] q = meanLogits(r.model());
        for (int c = 0; c < q.length; c++) {
          shift[w][bc] += Math.abs(q[c] - fp32Logits[c]) / q.length;
        }
        System.out.printf(
            Locale.ROOT,
            "CNN W4A8 %s: accuracy %.4f, mean |logit shift| %.4f%n",
            recipe,
            measured[w][bc],
            shift[w][bc]);
      }
    }
    // Bias correction does what it is for: it removes about a third of the mean logit shift
    // that int4 weights cause (0.471 -> 0.283 symmetric min/max, 0.391 -> 0.277 affine MSE) ...
    assertThat(shift[0][1]).isLessThan(0.75 * shift[0][0]);
    assertThat(shift[1][1]).isLessThan(0.8 * shift[1][0]);
    // ... but top-1 accuracy moves within the noise of 10,000 images: symmetric min/max (the
    // PyTorch-like W4A8, 0.9158 there) 0.9160 -> 0.9136, affine MSE 0.9227 -> 0.9233.
    assertThat(measured[0][0]).isCloseTo(0.9160, org.assertj.core.api.Assertions.within(0.002));
    assertThat(measured[0][1]).isCloseTo(0.9136, org.assertj.core.api.Assertions.within(0.002));
    assertThat(measured[1][0]).isCloseTo(0.9227, org.assertj.core.api.Assertions.within(0.002));
    assertThat(measured[1][1]).isCloseTo(0.9233, org.assertj.core.api.Assertions.within(0.002));
  }

  /** Mean of each logit over the first 1,000 training images (the calibration images). */
  private static double[] meanLogits(OnnxModel model) {
    double[] sum = new double[10];
    long n = 0;
    try (InferenceSession s = InferenceSession.open(model, SessionConfig.defaults());
        BatchStream b = Accuracy.calibrationImages(1000).open(500)) {
      while (b.hasNext()) {
        Batch batch = b.next();
        float[] logits = s.run(batch.inputs()).get("logits").floats();
        for (int i = 0; i < logits.length; i++) {
          sum[i % 10] += logits[i];
        }
        n += batch.size();
      }
    }
    for (int c = 0; c < 10; c++) {
      sum[c] /= n;
    }
    return sum;
  }

  @Test
  void bothRepairsGiveIdenticalBytesAndRunInOnnxRuntime() throws Exception {
    // Gemm f1/f2 store their weights transposed (transB = 1): the Gemm path of both repairs.
    String recipe =
        """
        weights: {type: int4, symmetric: false, method: mse, bias_correction: true}
        overrides: [{op_type: Gemm, smooth: 0.5, rationale: "migrate the flatten outliers"}]
        calibration: {samples: 300, channels: false}
        """;
    Path a = tmp.resolve("a.onnx");
    Path b = tmp.resolve("b.onnx");
    QuantizationResult first = quantizeCnn(recipe);
    ModelIO.save(first.model(), a);
    ModelIO.save(quantizeCnn(recipe).model(), b);
    assertThat(Files.readAllBytes(b)).isEqualTo(Files.readAllBytes(a));
    assertThat(first.report().notes()).anyMatch(n -> n.startsWith("smoothed 2 MatMul/Gemm"));
    OnnxModel m = ModelIO.load(a);
    assertThat(m.graph().nodes().stream().filter(n -> n.opType().equals("Mul"))).hasSize(2);
    double accuracy = Accuracy.of(a);
    System.out.printf(
        Locale.ROOT, "CNN W4A8, affine MSE, smoothed Gemms + bias correction: %.4f%n", accuracy);
    assertThat(accuracy).isGreaterThan(0.915);
  }

  private static QuantizationResult quantizeCnn(String recipe) {
    return Quantizer.quantize(
        ModelIO.load(TestModels.fashionCnn()),
        RecipeIO.parse(recipe, "r"),
        Accuracy.calibrationImages(300),
        Quantizer.Options.defaults());
  }
}

package io.quantguard.quantize;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.ModelSummary;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TestModels;
import io.quantguard.runtime.SentenceEmbeddings;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dynamic int8, weight-only int4 and float16 on all-MiniLM-L6-v2 (no calibration data needed), and
 * a recipe that mixes modes on the CNN. Embedding agreement is measured on 200 Europarl sessions
 * against FP32 and, for dynamic int8, against ONNX Runtime's own dynamically quantized peer on the
 * same texts.
 */
class QuantizerModesTest {
  private static final String TEXTS =
      "text:europarl?tokenizer=minilm-tokenizer&column=3&max_length=128&offset=500&limit=200";
  private static OnnxModel miniLm;

  @TempDir Path tmp;

  @BeforeAll
  static void load() {
    miniLm = ModelIO.load(TestModels.miniLm());
  }

  private Path quantize(String recipe, String file) {
    QuantizationResult r =
        Quantizer.quantize(
            miniLm, RecipeIO.parse(recipe, file), null, Quantizer.Options.defaults());
    Path out = tmp.resolve(file);
    ModelIO.save(r.model(), out);
    return out;
  }

  private static double fraction(Path model) throws Exception {
    return Files.size(model) / (double) Files.size(TestModels.miniLm());
  }

  @Test
  void dynamicInt8BeatsOnnxRuntimesPeerOnAgreementAtTheSameSize() throws Exception {
    Path dyn = quantize("mode: dynamic", "minilm-dynamic.onnx");
    double ours = SentenceEmbeddings.meanCosine(TestModels.miniLm(), dyn, TEXTS);
    double peer =
        SentenceEmbeddings.meanCosine(TestModels.miniLm(), TestModels.miniLmQuantized(), TEXTS);
    System.out.printf(
        "MiniLM dynamic int8: cosine %.5f (peer %.5f), size %.3f of FP32%n",
        ours, peer, fraction(dyn));
    assertThat(ours).isGreaterThan(peer);
    assertThat(ours).isBetween(0.985, 0.995);
    assertThat(fraction(dyn)).isLessThan(0.26);
    ModelSummary s = ModelSummary.of(ModelIO.load(dyn));
    assertThat(s.quantization().integerOps())
        .containsEntry("com.microsoft:MatMulIntegerToFloat", 36)
        .containsEntry("DynamicQuantizeLinear", 24);
    assertThat(s.quantization().scheme()).contains("dynamic int8");
  }

  @Test
  void weightOnlyInt4WithGptqKeepsEmbeddingsAtASixthOfTheSize() throws Exception {
    String calibration =
        "text:europarl?tokenizer=minilm-tokenizer&column=3&max_length=128&limit=128";
    QuantizationResult r =
        Quantizer.quantize(
            miniLm,
            RecipeIO.parse("mode: weight-only\ncalibration: {samples: 128}", "w4"),
            DataSpec.parse(calibration),
            Quantizer.Options.defaults());
    Path w4 = tmp.resolve("minilm-int4.onnx");
    ModelIO.save(r.model(), w4);
    double cosine = SentenceEmbeddings.meanCosine(TestModels.miniLm(), w4, TEXTS);
    System.out.printf(
        "MiniLM weight-only uint4 (block 32, GPTQ): cosine %.5f, size %.3f of FP32%n",
        cosine, fraction(w4));
    assertThat(fraction(w4)).isLessThanOrEqualTo(0.20);
    // GPTQ with the calibration Hessian; round-to-nearest int4 gives 0.916, with AWQ scales 0.962.
    assertThat(cosine).isBetween(0.978, 0.990);
    ModelSummary s = ModelSummary.of(ModelIO.load(w4));
    assertThat(s.quantization().integerOps())
        .containsEntry("com.microsoft:MatMulNBits", 36)
        .containsEntry("com.microsoft:GatherBlockQuantized", 3);
    assertThat(r.report().calibrationSamples()).isEqualTo(128);
    // AWQ instead of GPTQ on the same data: the activation-aware scales land in the graph.
    QuantizationResult awq =
        Quantizer.quantize(
            miniLm,
            RecipeIO.parse(
                "mode: weight-only\nweights: {algorithm: awq}\ncalibration: {samples: 32}", "awq"),
            DataSpec.parse(calibration),
            Quantizer.Options.defaults());
    assertThat(awq.model().graph().nodes().stream().filter(n -> n.name().endsWith("_AwqScale")))
        .isNotEmpty();
  }

  @Test
  void float16KeepsEmbeddingsAndHalvesTheSize() throws Exception {
    Path f16 = quantize("mode: fp16", "minilm-fp16.onnx");
    double cosine = SentenceEmbeddings.meanCosine(TestModels.miniLm(), f16, TEXTS);
    System.out.printf("MiniLM fp16: cosine %.6f, size %.3f of FP32%n", cosine, fraction(f16));
    assertThat(cosine).isGreaterThanOrEqualTo(0.999);
    assertThat(fraction(f16)).isBetween(0.45, 0.55);
    OnnxModel m = ModelIO.load(f16);
    assertThat(m.graph().inputs().get(0).getType().getTensorType().getElemType()).isEqualTo(7);
    assertThat(m.graph().outputs().get(0).getType().getTensorType().getElemType()).isEqualTo(1);
    assertThat(ModelSummary.of(m).parametersByType()).containsKey("float16");
  }

  @Test
  void oneRecipeMixesStaticDynamicAndFloat16() throws Exception {
    OnnxModel cnn = ModelIO.load(TestModels.fashionCnn());
    String gemm1 =
        cnn.graph().nodes().stream()
            .filter(n -> n.opType().equals("Gemm"))
            .findFirst()
            .orElseThrow()
            .name();
    String recipe =
        "mode: static\noverrides:\n  - {node: '"
            + gemm1
            + "', mode: dynamic}\n  - {op_type: Relu, mode: fp16}\n";
    QuantizationResult r =
        Quantizer.quantize(
            cnn,
            RecipeIO.parse(recipe, "mixed"),
            Accuracy.calibrationImages(500),
            Quantizer.Options.defaults());
    assertThat(r.report().quantizedNodesByOp()).containsKeys("Conv", "Gemm", "float16 nodes");
    long q =
        r.model().graph().nodes().stream().filter(n -> n.opType().equals("QuantizeLinear")).count();
    long dyn =
        r.model().graph().nodes().stream()
            .filter(n -> n.opType().equals("MatMulIntegerToFloat"))
            .count();
    long casts = r.model().graph().nodes().stream().filter(n -> n.opType().equals("Cast")).count();
    assertThat(q).isPositive();
    assertThat(dyn).isEqualTo(1);
    assertThat(casts).isPositive();
    double accuracy = Accuracy.of(r.model());
    System.out.printf("CNN mixed static/dynamic/fp16: %.4f%n", accuracy);
    assertThat(accuracy).isBetween(0.920, 0.930);
  }

  @Test
  void aStaticMiniLmWithItsFfnDownProjectionsDynamicHasBothFormsAndRuns() throws Exception {
    // What tune's switch to dynamic int8 makes: static QDQ everywhere but on six MatMuls.
    String recipe =
        "mode: static\nop_types: [MatMul]\ncalibration: {samples: 64}\noverrides:\n"
            + "  - {node_regex: 'layer.[0-9]+/output/dense/MatMul$', mode: dynamic, rationale: GELU tail}\n";
    QuantizationResult r =
        Quantizer.quantize(
            miniLm,
            RecipeIO.parse(recipe, "mixed"),
            DataSpec.parse(
                "text:europarl?tokenizer=minilm-tokenizer&column=3&max_length=128&limit=64"),
            Quantizer.Options.defaults());
    Path mixed = tmp.resolve("minilm-mixed.onnx");
    ModelIO.save(r.model(), mixed);
    var nodes = r.model().graph().nodes();
    long dynamic =
        nodes.stream()
            .filter(
                n ->
                    n.opType().equals("DynamicQuantizeMatMul")
                        || n.opType().equals("MatMulIntegerToFloat"))
            .count();
    long staticQdq = nodes.stream().filter(n -> n.opType().equals("QuantizeLinear")).count();
    assertThat(dynamic).isEqualTo(6);
    assertThat(staticQdq).isGreaterThan(20);
    // It loads and runs in ONNX Runtime and stays close to FP32.
    double cosine = SentenceEmbeddings.meanCosine(TestModels.miniLm(), mixed, TEXTS);
    System.out.printf("MiniLM static with dynamic FFN down-projections: cosine %.5f%n", cosine);
    assertThat(cosine).isGreaterThan(0.98);
  }

  @Test
  void weightOnlyBlocksOfFourAndEightBitsKeepTheCnnAccurate() {
    OnnxModel cnn = ModelIO.load(TestModels.fashionCnn());
    for (String type : new String[] {"uint8", "uint4"}) {
      for (String format : new String[] {"nbits", "qdq"}) {
        String recipe =
            "mode: weight-only\nop_types: [Gemm]\nweights: {type: "
                + type
                + ", block_size: 64, format: "
                + format
                + "}";
        QuantizationResult r =
            Quantizer.quantize(
                cnn, RecipeIO.parse(recipe, type), null, Quantizer.Options.defaults());
        String op = format.equals("nbits") ? "MatMulNBits" : "DequantizeLinear";
        assertThat(r.model().graph().nodes().stream().filter(n -> n.opType().equals(op)))
            .hasSize(2);
        if (format.equals("qdq")) {
          assertThat(r.model().opset("")).isEqualTo(21);
          assertThat(
                  r.model().graph().nodes().stream()
                      .filter(n -> n.opType().equals(op))
                      .allMatch(n -> n.intAttribute("block_size", 0) == 64))
              .isTrue();
        }
        double accuracy = Accuracy.of(r.model());
        System.out.printf(
            "CNN weight-only %s blocks of 64 on the Gemms (%s): %.4f%n", type, format, accuracy);
        assertThat(accuracy).isBetween(type.equals("uint8") ? 0.9240 : 0.9150, 0.9270);
      }
    }
  }
}

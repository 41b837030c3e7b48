package io.quantguard.qat;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TechnicalEnglish;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.runtime.SentenceEmbeddings;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16's MiniLM line, measured rather than pinned (about 8 minutes on 2 cores, so not in the
 * default test set: {@code mvn test -pl quantguard-qat -Dtest=MiniLmQatMeasurement
 * -Dsurefire.failIfNoSpecifiedTests=false}). all-MiniLM-L6-v2 with every MatMul in int8 ({@code
 * recipes/minilm-all-int8-mixed.yaml}), trained by distillation on unlabeled Europarl text (the
 * README's command), then compared with FP32 on technical English that neither calibration nor
 * training saw: the mean cosine of the sentence embeddings reaches 0.998 and no MatMul stays in
 * float.
 */
class MiniLmQatMeasurement {
  @TempDir Path tmp;

  @Test
  void everyMatMulInt8ReachesTheGoalOnTextUnlikeItsTrainingText() {
    OnnxModel fp32 = ModelIO.load(TestModels.miniLm());
    String europarl = "text:europarl?tokenizer=minilm-tokenizer&column=3&max_length=128";
    List<String> blocks = new ArrayList<>();
    for (int layer = 0; layer <= 4; layer++) {
      blocks.add("/encoder/layer." + layer + "/output/LayerNorm/Add_1_output_0");
    }
    QuantizationAwareTraining.Result r =
        QuantizationAwareTraining.builder(
                fp32, RecipeIO.read(Path.of("..", "recipes", "minilm-all-int8-mixed.yaml")))
            .data(DataSpec.parse(europarl + "&offset=1000&limit=4800"))
            .calibration(DataSpec.parse(europarl + "&limit=300"))
            .distill(Distillation.pooledCosine("attention_mask").withIntermediates(blocks, 1))
            .batchSize(16)
            .maxSteps(150)
            .learningRate(2e-5f)
            .seed(42)
            .run();
    Path out = tmp.resolve("minilm-qat-mixed.onnx");
    ModelIO.save(r.quantized().model(), out);

    long floatMatMuls =
        r.quantized().model().graph().nodes().stream()
            .filter(n -> n.opType().equals("MatMul"))
            .filter(n -> !readsDequantized(r.quantized().model(), n))
            .count();
    assertThat(floatMatMuls).as("MatMuls left in float").isZero();
    assertThat(r.quantized().model().graph().nodes())
        .filteredOn(n -> n.opType().equals("MatMulIntegerToFloat"))
        .hasSize(6);

    Path technical = TechnicalEnglish.write(tmp.resolve("technical.txt"), 4000);
    double[] c =
        SentenceEmbeddings.cosines(
            TestModels.miniLm(), out, TechnicalEnglish.miniLmData(technical));
    double mean = Arrays.stream(c).average().orElseThrow();
    System.out.printf(
        "MiniLM, every MatMul int8 after %d QAT steps: mean cosine %.5f on %d technical paragraphs%n",
        r.training().steps(), mean, c.length);
    // Measured 0.9981 on 1,561 paragraphs with AVX-512 VNNI (the README)
    assertThat(mean).isGreaterThanOrEqualTo(0.998);
  }

  /** Whether both inputs of {@code n} come out of a DequantizeLinear: a QDQ int8 MatMul. */
  private static boolean readsDequantized(OnnxModel m, Node n) {
    return n.inputs().stream()
        .allMatch(
            x ->
                m.graph()
                    .producer(x)
                    .filter(p -> p.opType().equals("DequantizeLinear"))
                    .isPresent());
  }
}

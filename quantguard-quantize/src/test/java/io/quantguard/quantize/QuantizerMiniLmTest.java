package io.quantguard.quantize;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.onnx.CpuFeatures;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TestModels;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * all-MiniLM-L6-v2 quantized with the shipped static int8 recipe, calibrated on 500 Europarl texts
 * and compared with FP32 on 1,000 other texts by the cosine of their sentence embeddings (masked
 * mean pooling, L2 normalization). Pins the mean cosine so a regression either way fails.
 */
class QuantizerMiniLmTest {
  @TempDir Path tmp;

  private static String europarl(int offset, int limit) {
    return "text:europarl?tokenizer=minilm-tokenizer&column=3&max_length=128&offset="
        + offset
        + "&limit="
        + limit;
  }

  @Test
  void staticInt8KeepsSentenceEmbeddings() throws Exception {
    Recipe recipe = RecipeIO.read(Path.of("..", "recipes", "minilm-static-int8.yaml"));
    OnnxModel fp32 = ModelIO.load(TestModels.miniLm());
    QuantizationResult r =
        Quantizer.quantize(
            fp32, recipe, DataSpec.parse(europarl(0, 500)), Quantizer.Options.defaults());
    Path out = tmp.resolve("minilm-int8.onnx");
    ModelIO.save(r.model(), out);
    double cosine = meanCosine(TestModels.miniLm(), out, europarl(500, 1000));
    System.out.printf(
        "MiniLM static int8: mean cosine %.5f, size %d of %d%n",
        cosine, Files.size(out), Files.size(TestModels.miniLm()));
    assertThat(r.report().calibrationSamples()).isEqualTo(500);
    assertThat(r.report().quantizedNodesByOp().get("MatMul")).isEqualTo(42);
    // 0.99376 measured with VNNI; 0.98936 on an AVX2-only CPU, whose uint8 x int8 kernels saturate
    assertThat(cosine).isBetween(CpuFeatures.detect().u8s8Saturates() ? 0.987 : 0.990, 0.997);
    // int8 everywhere but the six float FFN down-projections (6 × 1536 × 384 × 4 bytes = 14 MB).
    assertThat(Files.size(out)).isLessThan(Files.size(TestModels.miniLm()) * 4 / 10);
  }

  /**
   * The shipped fast recipe needs no calibration data: ONNX Runtime and QuantGuard fuse the model,
   * the six attention blocks become QAttention and every other MatMul with a weight becomes int8
   * with activations quantized per token at run time. Floor: the mean cosine measured on these 300
   * Europarl texts (0.99630) less a margin; per tensor gives 0.990.
   */
  @Test
  void fastRecipeQuantizesWithoutCalibrationAndKeepsSentenceEmbeddings() throws Exception {
    Recipe recipe = RecipeIO.read(Path.of("..", "recipes", "minilm-fast.yaml"));
    QuantizationResult r =
        Quantizer.quantize(
            ModelIO.load(TestModels.miniLm()), recipe, null, Quantizer.Options.defaults());
    Path out = tmp.resolve("minilm-fast.onnx");
    ModelIO.save(r.model(), out);
    double cosine = meanCosine(TestModels.miniLm(), out, europarl(500, 300));
    System.out.printf("MiniLM fast recipe: mean cosine %.5f%n", cosine);
    assertThat(r.report().quantizedNodesByOp())
        .containsEntry("MatMul", 18)
        .containsEntry("Attention", 6);
    assertThat(r.model().metadata()).containsKey(RuntimeFusion.METADATA_KEY);
    // 0.99490 on an AVX2-only CPU, whose uint8 x int8 kernels saturate
    assertThat(cosine).isGreaterThan(CpuFeatures.detect().u8s8Saturates() ? 0.993 : 0.994);
  }

  static double meanCosine(Path baseline, Path candidate, String data) {
    double sum = 0;
    long n = 0;
    try (InferenceSession b = InferenceSession.open(baseline, SessionConfig.defaults());
        InferenceSession c = InferenceSession.open(candidate, SessionConfig.defaults());
        BatchStream s = DataSpec.parse(data).open(32)) {
      while (s.hasNext()) {
        Batch batch = s.next();
        float[][] x = embed(b.run(batch.inputs()).get("last_hidden_state"), batch);
        float[][] y = embed(c.run(batch.inputs()).get("last_hidden_state"), batch);
        for (int i = 0; i < x.length; i++) {
          double dot = 0;
          for (int d = 0; d < x[i].length; d++) {
            dot += x[i][d] * y[i][d];
          }
          sum += dot;
          n++;
        }
      }
    }
    return sum / n;
  }

  /** Attention-masked mean pooling, then L2 normalization (the sentence-transformers recipe). */
  static float[][] embed(Tensor hidden, Batch batch) {
    long[] s = hidden.shape();
    int rows = (int) s[0];
    int len = (int) s[1];
    int dim = (int) s[2];
    long[] mask = batch.inputs().get("attention_mask").longs();
    float[] h = hidden.floats();
    float[][] out = new float[rows][dim];
    for (int i = 0; i < rows; i++) {
      int count = 0;
      for (int t = 0; t < len; t++) {
        if (mask[i * len + t] != 0) {
          count++;
          for (int d = 0; d < dim; d++) {
            out[i][d] += h[(i * len + t) * dim + d];
          }
        }
      }
      double norm = 0;
      for (int d = 0; d < dim; d++) {
        out[i][d] /= count;
        norm += out[i][d] * out[i][d];
      }
      float inv = (float) (1 / Math.sqrt(norm));
      for (int d = 0; d < dim; d++) {
        out[i][d] *= inv;
      }
    }
    return out;
  }
}

package io.quantguard.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.onnx.CpuFeatures;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.Recipe;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSource;
import io.quantguard.runtime.data.DataSpec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The approach follows the op mix and the probe; the CPU shapes the reason. */
class RecommendationTest {
  private static final CpuFeatures VNNI =
      new CpuFeatures("test", 2, List.of("avx512_vnni"), "AVX-512 VNNI");
  private static final CpuFeatures PLAIN = new CpuFeatures("test", 2, List.of("avx2"), "none");

  @Test
  void convolutionsAreStatic() {
    Recommendation r =
        Recommendation.recommend(Map.of("Conv", 2, "Gemm", 2), VNNI, 31.5, () -> false);
    assertThat(r.approach()).isEqualTo(Recipe.Mode.STATIC);
    assertThat(r.reason()).contains("ConvInteger").contains("31.5 dB").contains("AVX-512 VNNI");
  }

  @Test
  void convolutionsThatLoseTooMuchStaticallyAreTrainedQuantizationAwareWhereLibTorchLoads() {
    Map<String, Integer> cnn = Map.of("Conv", 2, "Gemm", 1);
    Recommendation low = Recommendation.recommend(cnn, VNNI, 9.0, () -> true);
    assertThat(low.approach()).isEqualTo(Recipe.Mode.STATIC);
    assertThat(low.quantizationAware()).isTrue();
    assertThat(low.reason()).contains("9.0 dB").contains("quantization-aware training");
    // Without libtorch the recommendation stays plain static.
    assertThat(Recommendation.recommend(cnn, VNNI, 9.0, () -> false).quantizationAware()).isFalse();
    // A good probe never asks whether training could run (loading libtorch is not free).
    Recommendation high =
        Recommendation.recommend(
            cnn,
            VNNI,
            31.5,
            () -> {
              throw new AssertionError("asked for libtorch");
            });
    assertThat(high.quantizationAware()).isFalse();
    assertThat(high.chosenByProject(Recipe.Mode.STATIC, true).quantizationAware()).isTrue();
  }

  @Test
  void recurrentLayersAreDynamic() {
    assertThat(
            Recommendation.recommend(Map.of("LSTM", 1, "Gemm", 1), VNNI, null, () -> false)
                .approach())
        .isEqualTo(Recipe.Mode.DYNAMIC);
    assertThat(Recommendation.needsProbe(Map.of("LSTM", 1, "Gemm", 1))).isFalse();
  }

  @Test
  void matMulsFollowTheProbe() {
    Map<String, Integer> bert = Map.of("MatMul", 48, "Add", 60);
    assertThat(Recommendation.needsProbe(bert)).isTrue();
    assertThat(Recommendation.recommend(bert, VNNI, 22.0, () -> false).approach())
        .isEqualTo(Recipe.Mode.STATIC);
    Recommendation low = Recommendation.recommend(bert, PLAIN, 9.0, () -> false);
    assertThat(low.approach()).isEqualTo(Recipe.Mode.DYNAMIC);
    assertThat(low.reason()).contains("9.0 dB").contains("no int8 dot-product instruction");
  }

  @Test
  void nothingToSpeedUpIsFp16() {
    assertThat(
            Recommendation.recommend(Map.of("Add", 3, "Relu", 1), VNNI, null, () -> false)
                .approach())
        .isEqualTo(Recipe.Mode.FP16);
  }

  @Test
  void theProbeReadsAtMostItsSamples() {
    String images =
        "idx:" + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz") + "?input=image";
    assertThat(samples(DataSpec.parse(images + "&limit=1000").head(64))).isEqualTo(64);
    assertThat(samples(DataSpec.parse(images + "&limit=10").head(64))).isEqualTo(10);
    assertThat(DataSpec.parse(images).head(64).size()).hasValue(64);
  }

  private static int samples(DataSource data) {
    int n = 0;
    try (BatchStream s = data.open(16)) {
      while (s.hasNext()) {
        n += s.next().size();
      }
    }
    return n;
  }
}

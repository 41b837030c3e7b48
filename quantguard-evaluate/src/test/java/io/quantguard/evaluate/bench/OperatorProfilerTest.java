package io.quantguard.evaluate.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * ONNX Runtime's profiler on the Fashion-MNIST CNN, FP32 against static int8: the FP32 model's time
 * is all float, the int8 model's moves into integer kernels.
 */
class OperatorProfilerTest {
  private static String images(int limit) {
    return "idx:"
        + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz")
        + "?input=image&limit="
        + limit;
  }

  @Test
  void theInt8CnnSpendsItsTimeInIntegerKernelsAndFp32InFloat() throws Exception {
    Path cnn = TestModels.fashionCnn();
    Path dir = Files.createDirectories(Path.of("target", "profile-cnn"));
    Path int8 = dir.resolve("cnn-int8.onnx");
    ModelIO.save(
        Quantizer.quantize(
                ModelIO.load(cnn),
                Recipe.defaults(),
                DataSpec.parse(images(256)),
                Quantizer.Options.defaults())
            .model(),
        int8);
    BenchPlan plan =
        BenchPlan.defaults(
                List.of(new BenchModel("fp32", cnn), new BenchModel("int8", int8)), images(64))
            .withBatchSizes(List.of(1, 32))
            .withSession(SessionConfig.defaults().withThreads(1))
            .withWarmup(1);
    List<OperatorProfile> profiles = new OperatorProfiler(plan, Progress.NONE).run();

    assertThat(profiles)
        .extracting(p -> p.batchSize() + " " + p.model())
        .containsExactly("1 fp32", "1 int8", "32 fp32", "32 int8");
    for (OperatorProfile p : profiles) {
      assertThat(p.runs()).isGreaterThanOrEqualTo(OperatorProfiler.MIN_RUNS);
      assertThat(p.kernelMsPerRun()).isPositive();
      assertThat(p.opTypes().stream().mapToDouble(OperatorProfile.Operator::msPerRun).sum())
          .isCloseTo(p.kernelMsPerRun(), within(1e-6 * p.kernelMsPerRun()));
      assertThat(p.opTypes().stream().mapToDouble(OperatorProfile.Operator::share).sum())
          .isCloseTo(1.0, within(1e-9));
      assertThat(p.nodes()).isNotEmpty();
      assertThat(p.nodes().get(0).msPerRun())
          .isGreaterThanOrEqualTo(p.nodes().get(p.nodes().size() - 1).msPerRun());
    }
    OperatorProfile fp32 = profiles.get(2);
    OperatorProfile q = profiles.get(3);
    assertThat(fp32.integerShare()).isZero();
    assertThat(fp32.conversionShare()).isZero();
    assertThat(fp32.floatShare()).isGreaterThan(0.9);
    assertThat(fp32.opTypes()).extracting(OperatorProfile.Operator::name).contains("Conv");
    // ONNX Runtime fuses the QDQ pairs into integer kernels; float Convs are gone.
    assertThat(q.opTypes()).extracting(OperatorProfile.Operator::name).contains("QLinearConv");
    assertThat(q.opTypes()).extracting(OperatorProfile.Operator::name).doesNotContain("Conv");
    // Pooling, transposes and the flattening Gather then move uint8 data: integer time too.
    assertThat(q.integerShare()).isGreaterThan(0.8);
    assertThat(q.floatShare()).isLessThan(0.05);
    assertThat(q.floatShare() + q.integerShare() + q.conversionShare())
        .isLessThanOrEqualTo(1 + 1e-9);

    String table = ProfileTable.render(profiles);
    assertThat(table)
        .contains(
            "Operator profile, batch 32",
            "QLinearConv (integer)",
            "Conv (float)",
            "float / integer / convert / other");
    assertThat(table).contains("slowest nodes of #2 int8");
    // The JSON of a bench result carries the profiles.
    String json = new ObjectMapper().writeValueAsString(profiles.get(3));
    assertThat(new ObjectMapper().readTree(json).path("opTypes").get(0).path("arithmetic").asText())
        .isNotEmpty();
  }

  @Test
  void arithmeticFollowsTheOperatorTypeThenTheInputTypes() {
    assertThat(OperatorProfile.Arithmetic.of("QLinearMatMul", List.of("uint8")))
        .isEqualTo(OperatorProfile.Arithmetic.INTEGER);
    assertThat(OperatorProfile.Arithmetic.of("MatMulIntegerToFloat", List.of("uint8")))
        .isEqualTo(OperatorProfile.Arithmetic.INTEGER);
    assertThat(OperatorProfile.Arithmetic.of("QAttention", List.of("float")))
        .isEqualTo(OperatorProfile.Arithmetic.INTEGER);
    assertThat(OperatorProfile.Arithmetic.of("QuantizeLinear", List.of("float")))
        .isEqualTo(OperatorProfile.Arithmetic.CONVERSION);
    assertThat(OperatorProfile.Arithmetic.of("MatMul", List.of("float", "float")))
        .isEqualTo(OperatorProfile.Arithmetic.FLOAT);
    assertThat(OperatorProfile.Arithmetic.of("MaxPool", List.of("uint8")))
        .isEqualTo(OperatorProfile.Arithmetic.INTEGER);
    assertThat(OperatorProfile.Arithmetic.of("Gather", List.of("float", "int64")))
        .isEqualTo(OperatorProfile.Arithmetic.FLOAT);
    assertThat(OperatorProfile.Arithmetic.of("Gather", List.of("int64", "int64")))
        .isEqualTo(OperatorProfile.Arithmetic.OTHER);
  }
}

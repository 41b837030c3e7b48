package io.quantguard.quantize;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.TestModels;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * One way to build a recipe: the builders and override factories make the records Jackson reads, a
 * copy keeps every field, flags laid over a recipe change only what they set, and the canonical
 * form (so the hash of an unchanged recipe file) stays what it was.
 */
class RecipeTest {
  private static final String EVERY_FIELD =
      """
      version: 1
      mode: static
      activations: {type: int8, symmetric: true, method: percentile, percentile: 99.9, reduce_range: false,
                    per_token: true}
      weights: {type: int4, symmetric: false, per_channel: true, method: mse, percentile: 99.5,
                reduce_range: false, block_size: 64, algorithm: gptq, format: qdq, bias_correction: true}
      op_types: [Conv, Gemm]
      exclude: [/net/f2/Gemm]
      overrides:
        - {op_type: Conv, weights: {method: minmax}, rationale: "r1"}
        - {node: /net/c1/Conv, precision: fp32, rationale: "first layer"}
        - {node_regex: 'f1', smooth: 0.75, mode: static}
        - {tensor: /net/c2/Conv_output_0, activations: {method: entropy}}
      smooth: 0.5
      calibration: {samples: 64, batch_size: 16, channels: false}
      optimize: onnxruntime
      rationale: "every field"
      """;

  @Test
  void aCopyKeepsEveryField() {
    Recipe r = RecipeIO.parse(EVERY_FIELD, "every.yaml");
    assertThat(r.toBuilder().build()).isEqualTo(r);
    assertThat(r.activations().toBuilder().build()).isEqualTo(r.activations());
    assertThat(r.weights().toBuilder().build()).isEqualTo(r.weights());
    for (Recipe.Override o : r.overrides()) {
      assertThat(o.toBuilder().build()).isEqualTo(o);
    }
    assertThat(r.toBuilder().rationale("another").build().smooth()).isEqualTo(0.5);
  }

  @Test
  void theFactoriesBuildWhatTheYamlSays() {
    Recipe built =
        Recipe.builder()
            .version(1)
            .mode(Recipe.Mode.STATIC)
            .activations(
                Recipe.Activations.builder()
                    .type("int8")
                    .symmetric(true)
                    .calibrator(new Calibrator.Percentile(99.9))
                    .reduceRange(false)
                    .perToken(true)
                    .build())
            .weights(
                Recipe.Weights.builder()
                    .type("int4")
                    .symmetric(false)
                    .perChannel(true)
                    .method(Recipe.WeightMethod.MSE)
                    .percentile(99.5)
                    .reduceRange(false)
                    .blockSize(64)
                    .algorithm("gptq")
                    .format("qdq")
                    .biasCorrection(true)
                    .build())
            .opTypes(List.of("Conv", "Gemm"))
            .exclude(List.of("/net/f2/Gemm"))
            .overrides(
                List.of(
                    Recipe.Override.opType("Conv")
                        .weights(
                            Recipe.Weights.builder().method(Recipe.WeightMethod.MINMAX).build())
                        .because("r1"),
                    Recipe.Override.node("/net/c1/Conv")
                        .precision(Recipe.Precision.FP32)
                        .because("first layer"),
                    Recipe.Override.nodeRegex("f1").smooth(0.75).mode(Recipe.Mode.STATIC).build(),
                    Recipe.Override.tensor("/net/c2/Conv_output_0")
                        .activations(
                            Recipe.Activations.builder()
                                .calibrator(new Calibrator.Entropy())
                                .build())
                        .build()))
            .smooth(0.5)
            .calibration(
                Recipe.Calibration.builder().samples(64).batchSize(16).channels(false).build())
            .optimize("onnxruntime")
            .rationale("every field")
            .build();
    Recipe read = RecipeIO.parse(EVERY_FIELD, "every.yaml");
    assertThat(built).isEqualTo(read);
    assertThat(RecipeIO.toJson(built)).isEqualTo(RecipeIO.toJson(read));
    assertThat(RecipeIO.parse(RecipeIO.toYaml(built), "again.yaml")).isEqualTo(built);
  }

  @Test
  void flagsLaidOverARecipeChangeOnlyWhatTheySet() {
    Recipe file = RecipeIO.parse(EVERY_FIELD, "every.yaml");
    Recipe flags =
        Recipe.builder()
            .mode(Recipe.Mode.WEIGHT_ONLY)
            .activations(Recipe.Activations.builder().method("mse").build())
            .weights(Recipe.Weights.builder().blockSize(32).build())
            .calibration(Recipe.Calibration.builder().samples(128).build())
            .exclude(List.of("/net/f1/Gemm"))
            .build();
    Recipe r = flags.over(file);
    assertThat(r.mode()).isEqualTo("weight-only");
    assertThat(r.activations()).isEqualTo(file.activations().toBuilder().method("mse").build());
    assertThat(r.weights()).isEqualTo(file.weights().toBuilder().blockSize(32).build());
    assertThat(r.calibration())
        .isEqualTo(Recipe.Calibration.builder().samples(128).batchSize(16).channels(false).build());
    assertThat(r.exclude()).containsExactly("/net/f2/Gemm", "/net/f1/Gemm");
    // What the flags leave out stays as the file says.
    assertThat(r.smooth()).isEqualTo(0.5);
    assertThat(r.overrides()).isEqualTo(file.overrides());
    assertThat(r.opTypes()).isEqualTo(file.opTypes());
    assertThat(r.rationale()).isEqualTo(file.rationale());
    // No flags: the very same recipe, with no empty settings added to its canonical form.
    Recipe sparse = RecipeIO.parse("smooth: 0.5", "sparse.yaml");
    Recipe none =
        Recipe.builder()
            .activations(Recipe.Activations.builder().build())
            .weights(Recipe.Weights.builder().build())
            .calibration(Recipe.Calibration.builder().build())
            .exclude(List.of())
            .overrides(List.of())
            .build();
    assertThat(none.over(sparse)).isEqualTo(sparse);
    // Overrides given on top come after the file's, so they win.
    Recipe.Override last = Recipe.Override.node("/net/c1/Conv").precision("int8").build();
    assertThat(Recipe.builder().overrides(List.of(last)).build().over(file).overrides())
        .endsWith(last)
        .hasSize(file.overrides().size() + 1);
  }

  /**
   * The canonical JSON of an unchanged recipe file, and so its hash in models and the registry, is
   * what it was before recipes had builders (values computed by the release before).
   */
  @Test
  void theHashOfAnUnchangedRecipeFileStays() {
    Recipe r = RecipeIO.read(Path.of("..", "recipes", "minilm-static-int8.yaml"));
    assertThat(RecipeIO.sha256(r))
        .isEqualTo("22122db0ad49ddd687647f7bda204d181bd330e2dda774f681d1aa0f08bfbfe9");
    assertThat(RecipeIO.sha256(RecipeIO.parse(RecipeIO.toJson(r), "json")))
        .isEqualTo(RecipeIO.sha256(r));
    assertThat(RecipeIO.sha256(r.resolved()))
        .isEqualTo("e29b95fd53fc68a3533122d9537463517112d0aff1ee67635ce731c9c0cc4b3e");
  }

  /**
   * The bug that made recipes a builder: excluding a node with a flag rebuilt the recipe through a
   * constructor from before {@code smooth} existed, so smoothing silently stopped and the recorded
   * recipe (and its hash) was not the one the user wrote.
   */
  @Test
  void excludingANodeKeepsTheRecipesSmoothing() {
    String file = "mode: static\nsmooth: 0.5\ncalibration: {samples: 64, batch_size: 32}\n";
    Recipe flagged =
        Recipe.builder()
            .exclude(List.of("/net/f2/Gemm"))
            .build()
            .over(RecipeIO.parse(file, "r.yaml"));
    QuantizationResult r =
        Quantizer.quantize(
            ModelIO.load(TestModels.fashionCnn()),
            flagged,
            DataSpec.parse(
                "idx:"
                    + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz")
                    + "?input=image&limit=64"),
            Quantizer.Options.defaults());
    assertThat(r.recipe().smooth()).isEqualTo(0.5);
    assertThat(RecipeIO.toYaml(r.recipe())).contains("smooth: 0.5");
    Recipe written = RecipeIO.parse(file + "exclude: [/net/f2/Gemm]\n", "written.yaml");
    assertThat(r.report().recipeSha256()).isEqualTo(RecipeIO.sha256(written.resolved()));
    assertThat(r.report().notes()).contains("smoothed 1 MatMul/Gemm input(s) (SmoothQuant)");
    assertThat(r.report().keptInFloat())
        .extracting(QuantizationReport.Skipped::node)
        .containsExactly("/net/f2/Gemm");
  }
}

package io.quantguard.quantize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.InvalidInputException;
import org.junit.jupiter.api.Test;

/**
 * {@link ResolvedRecipe}: the defaults a recipe leaves out, typed, agree with the defaults {@link
 * Recipe#defaults(Recipe.Mode)} spells out (which are hashed and saved), and misspelled values fail
 * naming their key.
 */
class ResolvedRecipeTest {
  @Test
  void anEmptyRecipeResolvesToTheSpelledDefaultsOfEachMode() {
    for (Recipe.Mode mode : Recipe.Mode.values()) {
      ResolvedRecipe empty = ResolvedRecipe.of(Recipe.builder().mode(mode).build());
      ResolvedRecipe spelled = ResolvedRecipe.of(Recipe.defaults(mode));
      assertThat(empty.activations()).as("%s activations", mode).isEqualTo(spelled.activations());
      assertThat(empty.weights()).as("%s weights", mode).isEqualTo(spelled.weights());
      assertThat(empty.opTypes()).isEqualTo(spelled.opTypes());
      assertThat(empty.samples()).isEqualTo(spelled.samples());
      assertThat(empty.batchSize()).isEqualTo(spelled.batchSize());
      assertThat(empty.form()).isEqualTo(spelled.form());
    }
    assertThat(ResolvedRecipe.of(Recipe.builder().build()).mode()).isEqualTo(Recipe.Mode.STATIC);
    assertThat(
            ResolvedRecipe.of(Recipe.builder().mode(Recipe.Mode.WEIGHT_ONLY).build()).weightType())
        .isEqualTo(DataType.UINT4);
  }

  @Test
  void keysARecipeSetsWinOverTheDefaultsOneByOne() {
    ResolvedRecipe r =
        ResolvedRecipe.of(
            RecipeIO.parse(
                "activations: {method: percentile, percentile: 99.9}\n"
                    + "weights: {type: int4, method: mse}\n"
                    + "calibration: {samples: 64}\n",
                "r.yaml"));
    assertThat(r.calibrator()).isEqualTo(new Calibrator.Percentile(99.9));
    assertThat(r.activations().scheme().type()).isEqualTo(DataType.UINT8);
    assertThat(r.weightType()).isEqualTo(DataType.INT4);
    assertThat(r.weights().scheme().symmetric()).isTrue();
    assertThat(r.weightMethod()).isEqualTo(Recipe.WeightMethod.MSE);
    assertThat(r.perChannelWeights()).isTrue();
    assertThat(r.samples()).isEqualTo(64);
    assertThat(r.batchSize()).isEqualTo(32);
  }

  @Test
  void misspelledValuesAreErrorsThatNameTheirKey() {
    assertThatThrownBy(() -> ResolvedRecipe.of(RecipeIO.parse("mode: statc\n", "r.yaml"), "r.yaml"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("r.yaml")
        .hasMessageContaining("mode");
    assertThatThrownBy(
            () -> ResolvedRecipe.of(RecipeIO.parse("weights: {method: fancy}\n", "r.yaml")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("weights.method");
    assertThatThrownBy(
            () -> ResolvedRecipe.of(RecipeIO.parse("activations: {type: int3}\n", "r.yaml")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("activations");
    assertThatThrownBy(() -> ResolvedRecipe.of(RecipeIO.parse("smooth: 1.5\n", "r.yaml")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("smooth");
    assertThatThrownBy(
            () -> ResolvedRecipe.of(RecipeIO.parse("calibration: {batch_size: 0}\n", "r.yaml")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("batch_size");
  }
}

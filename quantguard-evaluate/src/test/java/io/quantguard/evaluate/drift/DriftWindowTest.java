package io.quantguard.evaluate.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.TestModels;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A CNN profile's JSON, and windows split, merged and persisted. */
class DriftWindowTest {
  @TempDir static Path tmp;
  static ReferenceProfile profile;

  @BeforeAll
  static void profile() {
    String train = "idx:" + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz");
    profile =
        ReferenceProfile.builder()
            .model(TestModels.fashionCnn())
            .data(DataSpec.parse(train + "?input=image&limit=300"))
            .bins(10)
            .batchSize(64)
            .build();
  }

  @Test
  void profilesTheCnnsInputAndOutputAndReadsBackFromJson() {
    assertThat(profile.samples()).isEqualTo(300);
    assertThat(profile.features())
        .extracting(Feature::name)
        .containsExactly(
            "image:mean",
            "image:std",
            "image:min",
            "image:max",
            "image:zeros",
            "image:out_of_range",
            "logits:class",
            "logits:confidence",
            "logits:margin");
    ReferenceProfile.Input image = profile.inputs().get(0);
    assertThat(image.low()).isZero(); // p0.1 of the pixels: black background
    assertThat(image.high()).isEqualTo(1.0);
    Feature mean = profile.feature("image:mean").orElseThrow();
    assertThat(mean.sample()).hasSize(300).isSorted();
    // Nine quantiles, and the edges below the minimum and at the maximum: the two outer bins hold
    // values the reference never reached.
    assertThat(mean.edges()).hasSize(11).isSorted();
    assertThat(mean.edges()[0]).isEqualTo(Math.nextDown(mean.min()));
    assertThat(mean.edges()[10]).isEqualTo(mean.max());
    assertThat(mean.proportions()).hasSize(12);
    assertThat(mean.proportions()[0]).isZero();
    assertThat(mean.proportions()[11]).isZero();
    // A point mass gets a bin of its own: most images have no pixel outside [p0.1, p99.9].
    Feature outside = profile.feature("image:out_of_range").orElseThrow();
    assertThat(outside.edges()).contains(0.0, Math.nextDown(0.0));
    assertThat(java.util.Arrays.stream(mean.proportions()).sum())
        .isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-9));
    Feature classes = profile.feature("logits:class").orElseThrow();
    assertThat(classes.kind()).isEqualTo(Feature.Kind.CATEGORICAL);
    assertThat(classes.proportions()).hasSize(10);
    ReferenceProfile back = ReferenceProfile.read(profile.write(tmp.resolve("profile.json")));
    assertThat(back.toJson()).isEqualTo(profile.toJson());
    assertThat(back.feature("image:std").orElseThrow().edges())
        .containsExactly(profile.feature("image:std").orElseThrow().edges());
  }

  @Test
  void windowsSplitOverThreadsAndPersistedMergeToTheSameResult() throws Exception {
    String test =
        "idx:"
            + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz")
            + "?input=image&limit=400";
    DriftWindow whole = profile.newWindow();
    List<DriftWindow> parts = List.of(profile.newWindow(), profile.newWindow());
    try (InferenceSession s =
            InferenceSession.open(TestModels.fashionCnn(), SessionConfig.defaults());
        BatchStream b = DataSpec.parse(test).open(50)) {
      int k = 0;
      while (b.hasNext()) {
        Batch batch = b.next();
        var out = s.run(batch.inputs());
        whole.add(batch, out);
        parts.get(k++ % 2).add(batch, out);
      }
    }
    // One part goes through JSON, as a window persisted between analysis intervals.
    ObjectMapper json = new ObjectMapper();
    DriftWindow.State state =
        json.readValue(json.writeValueAsString(parts.get(1).state()), DriftWindow.State.class);
    DriftWindow restored = DriftWindow.restore(profile, state);
    restored.merge(parts.get(0));
    assertThat(restored.samples()).isEqualTo(400);
    // Counts, samples and tests merge exactly; means up to floating-point rounding.
    assertThat(restored.result())
        .usingRecursiveComparison()
        .withComparatorForType(
            (Double a, Double b) -> Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a)) ? 0 : 1,
            Double.class)
        .isEqualTo(whole.result());
    assertThat(restored.result().feature("image:mean").orElseThrow().ksPValue())
        .isEqualTo(whole.result().feature("image:mean").orElseThrow().ksPValue());
  }

  @Test
  void refusesWindowsOfAnotherProfileAndUnknownOutputs() {
    ReferenceProfile other =
        DriftStatisticsTest.scoreProfile(new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 100);
    DriftWindow w = profile.newWindow();
    assertThatThrownBy(() -> w.merge(other.newWindow()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("merge only windows of the same reference profile");
    ReferenceProfile.Builder b =
        ReferenceProfile.builder()
            .model(TestModels.fashionCnn())
            .data(
                DataSpec.parse(
                    "idx:"
                        + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz")
                        + "?input=image&limit=10"))
            .output("probabilities", ReferenceProfile.OutputKind.CLASSES);
    assertThatThrownBy(b::build)
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("output probabilities")
        .hasMessageContaining("[logits]");
  }
}

package io.quantguard.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuantizationProvenanceTest {
  @TempDir Path tmp;

  private static final QuantizationProvenance FULL =
      new QuantizationProvenance(
          "0.2.0",
          "{\"mode\":\"static\"}",
          "ab".repeat(32),
          "static",
          "cd".repeat(32),
          1,
          512L,
          new QuantizationProvenance.Session("ALL", 4, 1, "CPU"),
          new RunEnvironment(
              "0.2.0", "1.23.2", "17.0.15 (Debian)", "Linux 6.1 (amd64)", 16, "AMD EPYC 9654"),
          "{\"steps\":250,\"lr\":3.0E-5}");

  @Test
  void theVersionComesFromTheBuild() {
    assertThat(QuantGuard.VERSION).doesNotContain("${").matches("\\d+\\.\\d+\\.\\d+.*");
    assertThat(RunEnvironment.current("1.23.2").quantguard()).isEqualTo(QuantGuard.VERSION);
  }

  @Test
  void roundTripsThroughTheSavedModel() {
    OnnxModel m = ModelIO.load(TestModels.fashionCnn());
    FULL.write(m);
    Path file = tmp.resolve("q.onnx");
    ModelIO.save(m, file);
    assertThat(QuantizationProvenance.read(ModelIO.load(file))).contains(FULL);
  }

  @Test
  void aModelWithOnlyTheFirstReleasesKeysReadsWithTheNewFieldsEmpty() {
    Map<String, String> old =
        Map.of(
            QuantizationProvenance.VERSION, "0.1.0",
            QuantizationProvenance.RECIPE, "{\"mode\":\"dynamic\"}",
            QuantizationProvenance.RECIPE_SHA, "ef".repeat(32),
            QuantizationProvenance.FINGERPRINT, "12".repeat(32),
            QuantizationProvenance.SAMPLES, "64");
    QuantizationProvenance p = QuantizationProvenance.read(old).orElseThrow();
    assertThat(p.toolVersion()).isEqualTo("0.1.0");
    assertThat(p.recipeJson()).isEqualTo("{\"mode\":\"dynamic\"}");
    assertThat(p.calibrationFingerprint()).isEqualTo("12".repeat(32));
    assertThat(p.calibrationSamples()).isEqualTo(64L);
    assertThat(p.mode()).isNull();
    assertThat(p.fingerprintScheme()).isNull();
    assertThat(p.session()).isNull();
    assertThat(p.environment()).isNull();
  }

  @Test
  void aModelWithoutARecipeHasNoProvenance() {
    assertThat(QuantizationProvenance.read(ModelIO.load(TestModels.fashionCnn()))).isEmpty();
  }

  @Test
  void writingAnotherRunReplacesTheOldKeysAndDropsThoseItLacks() {
    OnnxModel m = ModelIO.load(TestModels.fashionCnn());
    FULL.write(m);
    QuantizationProvenance moved =
        new QuantizationProvenance(
            "0.2.0",
            "{\"mode\":\"static\"}",
            "ab".repeat(32),
            null,
            null,
            null,
            null,
            null,
            null,
            null);
    moved.write(m);
    assertThat(QuantizationProvenance.read(m)).contains(moved);
    assertThat(m.metadata().keySet()).noneMatch(k -> k.startsWith("quantguard.environment."));
  }
}

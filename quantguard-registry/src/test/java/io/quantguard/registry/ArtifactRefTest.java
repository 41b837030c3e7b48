package io.quantguard.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.InvalidInputException;
import org.junit.jupiter.api.Test;

class ArtifactRefTest {
  @Test
  void parsesModelsVersionsAndAliases() {
    assertThat(ArtifactRef.parse("fashion-cnn"))
        .isEqualTo(new ArtifactRef("fashion-cnn", null, null));
    assertThat(ArtifactRef.parse("fashion-cnn@12")).isEqualTo(ArtifactRef.of("fashion-cnn", 12));
    assertThat(ArtifactRef.parse("m@production").alias()).isEqualTo(Stage.PRODUCTION);
    assertThat(ArtifactRef.parse("m@Canary").toString()).isEqualTo("m@canary");
    assertThat(ArtifactRef.parse("m").pinned()).isFalse();
  }

  @Test
  void refusesWhatNamesNothing() {
    assertThatThrownBy(() -> ArtifactRef.parse("m@0"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("versions start at 1");
    assertThatThrownBy(() -> ArtifactRef.parse("m@archived"))
        .hasMessageContaining("can hold many versions");
    assertThatThrownBy(() -> ArtifactRef.parse("m@latest"))
        .hasMessageContaining("unknown stage 'latest'")
        .hasMessageContaining("candidate, canary, production, archived");
    assertThatThrownBy(() -> ArtifactRef.parse("../etc@1"))
        .hasMessageContaining("not a model name");
    assertThatThrownBy(() -> ArtifactRef.parse("@1")).hasMessageContaining("not a model name");
  }
}

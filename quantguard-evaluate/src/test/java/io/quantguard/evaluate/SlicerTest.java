package io.quantguard.evaluate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.InvalidInputException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SlicerTest {
  private final Task<?> task = Tasks.parse("classification?classes=cat,dog");

  @Test
  void parsesEveryForm() {
    assertThat(Slicer.parse("data")).isInstanceOf(Slicer.ByData.class);
    assertThat(Slicer.parse("label")).isInstanceOf(Slicer.ByLabel.class);
    assertThat(Slicer.parse("tokens")).isEqualTo(new Slicer.ByAttribute("tokens", null));
    assertThat(Slicer.parse("tokens=64,32"))
        .isEqualTo(new Slicer.ByAttribute("tokens", new double[] {32, 64}));
    assertThat(Slicer.parse("tokens=32,64").spec()).isEqualTo("tokens=32,64");
    assertThatThrownBy(() -> Slicer.parse("tokens=a,b"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("evaluation.sliceBy tokens=a,b: is not NAME=edge,edge,...");
  }

  @Test
  void namesSlices() {
    assertThat(new Slicer.ByData().key("fr", 0, Map.of(), task).name()).isEqualTo("data=fr");
    assertThat(new Slicer.ByLabel().key("d", 1, Map.of(), task).name()).isEqualTo("label=dog");
    assertThat(new Slicer.ByLabel().key("d", -1, Map.of(), task)).isNull();
    Slicer pow2 = Slicer.parse("tokens");
    assertThat(pow2.key("d", 0, Map.of("tokens", "37"), task).name()).isEqualTo("tokens:[32,64)");
    assertThat(pow2.key("d", 0, Map.of("tokens", "1"), task).name()).isEqualTo("tokens:[1,2)");
    assertThat(pow2.key("d", 0, Map.of(), task).name()).isEqualTo("tokens=(none)");
    Slicer edges = Slicer.parse("tokens=32,64");
    assertThat(edges.key("d", 0, Map.of("tokens", "5"), task).name()).isEqualTo("tokens:<32");
    assertThat(edges.key("d", 0, Map.of("tokens", "32"), task).name()).isEqualTo("tokens:[32,64)");
    assertThat(edges.key("d", 0, Map.of("tokens", "128"), task).name()).isEqualTo("tokens:>=64");
    assertThat(Slicer.parse("truncated").key("d", 0, Map.of("truncated", "true"), task).name())
        .isEqualTo("truncated=true");
  }
}

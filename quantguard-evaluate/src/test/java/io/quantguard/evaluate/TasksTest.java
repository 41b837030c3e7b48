package io.quantguard.evaluate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.InvalidInputException;
import org.junit.jupiter.api.Test;

class TasksTest {
  @Test
  void everyBuiltInTaskIsFoundThroughTheServiceLoader() {
    assertThat(Tasks.available())
        .containsKeys("classification", "embedding", "retrieval", "qa", "regression", "raw");
    assertThat(Tasks.parse("embedding?pooling=cls").name()).isEqualTo("embedding");
    assertThat(Tasks.parse("retrieval?k=5").requiredData()).containsExactly("queries", "corpus");
  }

  @Test
  void rejectsUnknownTasksAndOptions() {
    assertThatThrownBy(() -> Tasks.parse("segmentation"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("not a known task")
        .hasMessageContaining("classification");
    assertThatThrownBy(() -> Tasks.parse("classification?topk=3"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("unknown option(s) [topk]");
    assertThatThrownBy(() -> Tasks.parse("embedding?pooling=max"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("pooling=max");
    assertThatThrownBy(() -> Tasks.parse("classification?k=0"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("k=0");
  }
}

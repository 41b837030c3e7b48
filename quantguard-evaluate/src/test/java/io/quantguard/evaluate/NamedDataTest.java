package io.quantguard.evaluate;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class NamedDataTest {
  @Test
  void splitsNamesFromSpecsAndNamesTheRestAfterTheirFiles() {
    assertThat(
            NamedData.parseAll(
                List.of(
                    "queries=text:europarl?column=1",
                    "idx:/d/t10k-images.gz?input=image",
                    "idx:/e/t10k-images.gz?input=image&limit=10",
                    "@data.yaml")))
        .containsExactly(
            new NamedData("queries", "text:europarl?column=1"),
            new NamedData("t10k-images", "idx:/d/t10k-images.gz?input=image"),
            new NamedData("t10k-images-2", "idx:/e/t10k-images.gz?input=image&limit=10"),
            new NamedData("data", "@data.yaml"));
  }
}

package io.quantguard.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class InvalidInputExceptionTest {

  @Test
  void aParameterErrorNamesTheKeyAndValueAndCanBeRenamedByAFrontEnd() {
    InvalidInputException e =
        InvalidInputException.forParameter(
            "evaluation.batchSize", 0, "is not positive", "use e.g. 64");

    assertThat(e.getMessage()).isEqualTo("evaluation.batchSize 0: is not positive (use e.g. 64)");
    assertThat(e.parameter()).contains("evaluation.batchSize");
    assertThat(e.value()).contains("0");
    assertThat(e.messageNaming("--batch-size"))
        .isEqualTo("--batch-size 0: is not positive (use e.g. 64)");
  }

  @Test
  void aMissingSettingHasNoValue() {
    InvalidInputException e =
        InvalidInputException.forParameter("evaluation.baseline", null, "is missing", null);

    assertThat(e.getMessage()).isEqualTo("evaluation.baseline: is missing");
    assertThat(e.value()).isEmpty();
    assertThat(e.messageNaming("--baseline")).isEqualTo("--baseline: is missing");
  }

  @Test
  void anErrorAboutAFileHasNoParameterKey() {
    InvalidInputException e = new InvalidInputException("model.onnx", "is empty", "re-export it");

    assertThat(e.parameter()).isEmpty();
    assertThat(e.getMessage()).isEqualTo("model.onnx: is empty (re-export it)");
  }
}

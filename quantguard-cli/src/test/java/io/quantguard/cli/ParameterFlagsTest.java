package io.quantguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.onnx.InvalidInputException;
import org.junit.jupiter.api.Test;

class ParameterFlagsTest {

  @Test
  void aLibraryParameterIsNamedByItsFlag() {
    InvalidInputException e =
        InvalidInputException.forParameter("tune.budget", 0, "must be at least 1", null);

    assertThat(ParameterFlags.message(e)).isEqualTo("--budget 0: must be at least 1");
  }

  @Test
  void aKeyNoFlagSetsKeepsTheLibraryWords() {
    InvalidInputException e =
        InvalidInputException.forParameter("session.provider", "cuda", "is not available", null);

    assertThat(ParameterFlags.message(e)).isEqualTo(e.getMessage());
  }

  @Test
  void anErrorAboutAFileIsPrintedAsIs() {
    InvalidInputException e = new InvalidInputException("model.onnx", "is empty", "re-export it");

    assertThat(ParameterFlags.message(e)).isEqualTo("model.onnx: is empty (re-export it)");
  }
}

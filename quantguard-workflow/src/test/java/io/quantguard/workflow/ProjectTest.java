package io.quantguard.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.InvalidInputException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The project file's binding: defaults, relative paths, and errors that name the key. */
class ProjectTest {
  private static final String VALID =
      "name: m\nmodel: model.onnx\ntask: classification\n"
          + "data:\n  calibration: idx:train.gz\n  test: {test: 'idx:t10k.gz?input=image'}\n"
          + "policy: {rules: {accuracy: {max_drop: 1%}}}\n";

  private static Project parse(String yaml) {
    return Project.parse(yaml, Path.of("/projects/p"), "quantguard.yaml");
  }

  @Test
  void fillsDefaults() {
    Project p = parse(VALID);
    assertThat(p.approach()).isEqualTo("auto");
    assertThat(p.data().test()).containsOnlyKeys("test");
    assertThat(p.path("model.onnx")).isEqualTo(Path.of("/projects/p/model.onnx"));
    assertThat(p.registryLocation(Path.of("/out"))).isEqualTo("/out/registry");
  }

  @Test
  void aTestSliceMayNameItsLabelsFile() {
    Project p =
        parse(
            VALID.replace(
                "test: {test: 'idx:t10k.gz?input=image'}",
                "test: {test: {spec: 'idx:/d/t10k.gz?input=image', labels: labels.gz}}"));
    assertThat(p.spec(p.data().test().get("test")))
        .isEqualTo("idx:/d/t10k.gz?input=image&labels=/projects/p/labels.gz");
  }

  @Test
  void anUnknownKeyIsNamed() {
    assertThatThrownBy(() -> parse(VALID + "serach: {budget: 3}\n"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("quantguard.yaml: serach")
        .hasMessageContaining("is not a project setting");
    assertThatThrownBy(() -> parse(VALID + "search: {budgit: 3}\n"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("quantguard.yaml: search.budgit");
  }

  @Test
  void missingAndWrongValuesAreNamed() {
    assertThatThrownBy(() -> parse(VALID.replace("task: classification\n", "")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("quantguard.yaml: task")
        .hasMessageContaining("is missing");
    assertThatThrownBy(
            () -> parse(VALID.replace("  test: {test: 'idx:t10k.gz?input=image'}\n", "")))
        .hasMessageContaining("quantguard.yaml: data.test");
    assertThatThrownBy(() -> parse(VALID + "search: {budget: many}\n"))
        .hasMessageContaining("quantguard.yaml: search.budget");
    assertThatThrownBy(() -> parse(VALID + "search: {budget: 0}\n"))
        .hasMessageContaining("quantguard.yaml: search.budget")
        .hasMessageContaining("at least 1");
    assertThatThrownBy(() -> parse(VALID + "approach: int3\n"))
        .hasMessageContaining("quantguard.yaml: approach");
    assertThatThrownBy(
            () ->
                parse(VALID.replace("policy: {rules: {accuracy: {max_drop: 1%}}}", "policy: [1]")))
        .hasMessageContaining("quantguard.yaml: policy");
  }

  @Test
  void trainingControlsAreReadAndTheirMisuseIsNamedBeforeAnyStep() {
    Project p =
        parse(
            VALID
                + "qat: {validation: 'idx:t10k.gz?input=image', validate_every: 10, patience: 3,"
                + " checkpoints: true, checkpoint_every: 20}\n");
    assertThat(p.qat().validation()).isEqualTo("idx:t10k.gz?input=image");
    assertThat(p.qat().validateEvery()).isEqualTo(10);
    assertThat(p.qat().patience()).isEqualTo(3);
    assertThat(p.qat().checkpoints()).isTrue();
    assertThat(p.qat().checkpointEvery()).isEqualTo(20);
    assertThatThrownBy(() -> parse(VALID + "qat: {patience: 3}\n"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(
            "quantguard.yaml: qat.patience: needs validation data to stop on (give qat.validation)");
    assertThatThrownBy(() -> parse(VALID + "qat: {validate_every: 5}\n"))
        .hasMessageContaining("quantguard.yaml: qat.validate_every");
    assertThatThrownBy(() -> parse(VALID + "qat: {checkpoint_every: 5}\n"))
        .hasMessageContaining("quantguard.yaml: qat.checkpoint_every")
        .hasMessageContaining("qat.checkpoints: true");
    assertThatThrownBy(() -> parse(VALID + "qat: {validation: 'idx:v.gz', validate_every: 0}\n"))
        .hasMessageContaining("quantguard.yaml: qat.validate_every")
        .hasMessageContaining("at least 1");
  }
}

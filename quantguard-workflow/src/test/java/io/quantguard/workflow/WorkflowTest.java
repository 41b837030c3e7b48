package io.quantguard.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.Recipe;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.ArtifactVersion;
import io.quantguard.registry.Registry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole workflow on the Fashion-MNIST CNN and the 2,000-image sample that ships with the tests:
 * every step runs, the verdict and the registry entry are right, and a second run reuses every
 * step; a changed policy runs only the steps that depend on it.
 */
class WorkflowTest {
  @TempDir Path tmp;

  private Path project(String policy) throws Exception {
    Path train = TestModels.fashionMnistSample("train-images-idx3-ubyte.gz");
    Path test = TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz");
    String yaml =
        "name: fashion-cnn\n"
            + "model: "
            + TestModels.fashionCnn()
            + "\n"
            + "task: classification\n"
            + "data:\n"
            + "  calibration: idx:"
            + train
            + "?input=image&limit=300\n"
            + "  test:\n"
            + "    first: idx:"
            + test
            + "?input=image&limit=1000\n"
            + "    second: idx:"
            + test
            + "?input=image&offset=1000&limit=1000\n"
            + "  slice_by: label\n"
            + "policy: "
            + policy
            + "\n"
            + "search: {budget: 4}\n"
            + "evaluation: {batch_size: 250, bootstrap: 100, probe_samples: 32}\n"
            + "registry: {location: registry, actor: ci}\n";
    Path file = tmp.resolve("quantguard.yaml");
    Files.writeString(file, yaml);
    return file;
  }

  private WorkflowResult run(Path projectFile) {
    return Workflow.builder()
        .project(Project.read(projectFile))
        .out(tmp.resolve("out"))
        .build()
        .run();
  }

  @Test
  void runsEveryStepRegistersTheCandidateAndResumes() throws Exception {
    Path file =
        project("{name: release, rules: {accuracy: {max_drop: 1%}, size: {max_ratio: 0.3}}}");
    WorkflowResult first = run(file);

    assertThat(first.steps()).extracting(Workflow.Step::name).isEqualTo(Workflow.STEPS);
    assertThat(first.reusedSteps()).isZero();
    assertThat(first.baseline().metric()).isEqualTo("accuracy");
    assertThat(first.baseline().perSlice()).containsKeys("all", "data=first", "data=second");
    assertThat(first.baseline().value()).isBetween(0.85, 0.95);
    assertThat(first.approach().approach()).isEqualTo(Recipe.Mode.STATIC);
    assertThat(first.approach().reason()).contains("convolution");
    assertThat(first.approach().probeSqnrDb()).isGreaterThan(15.0);
    assertThat(first.candidate().tuned()).isTrue();
    assertThat(first.passed()).isTrue();
    assertThat(first.verdict().failures()).isEmpty();
    assertThat(first.evaluation().sizeRatio()).isLessThan(0.3);
    assertThat(Math.abs(first.evaluation().delta())).isLessThan(0.01);
    assertThat(first.summary()).exists();
    String summary = Files.readString(first.summary());
    assertThat(summary).contains("PASS").contains("steps/evaluate/report/report.html");
    assertThat(tmp.resolve("out/steps/evaluate/report/report.html")).exists();
    assertThat(tmp.resolve("out/steps/gate/junit.xml")).exists();

    Registry registry = Registry.open(tmp.resolve("registry").toString());
    List<ArtifactVersion> versions = registry.versions("fashion-cnn");
    assertThat(versions).singleElement();
    ArtifactVersion v = versions.get(0);
    assertThat(v.parent()).isEqualTo(ArtifactRef.of("fashion-cnn-fp32", 1));
    assertThat(v.reportSha256()).isNotNull();
    assertThat(v.mode()).isEqualTo("static");
    assertThat(v.note()).contains("gate PASS");
    assertThat(first.registered().candidate()).isEqualTo("fashion-cnn@1");

    // Second run, nothing changed: every step is reused, nothing is registered twice.
    WorkflowResult again = run(file);
    assertThat(again.reusedSteps()).isEqualTo(Workflow.STEPS.size());
    assertThat(again.registered()).isEqualTo(first.registered());
    assertThat(again.evaluation()).isEqualTo(first.evaluation());
    assertThat(registry.versions("fashion-cnn")).hasSize(1);

    // A stricter policy: the baseline and the approach do not depend on it and are reused; tuning
    // and the gate run again (the final evaluation too, unless tuning ends with the same model),
    // and the gate fails on size.
    project("{name: tiny, rules: {accuracy: {max_drop: 1%}, size: {max_ratio: 0.1}}}");
    WorkflowResult stricter = run(file);
    assertThat(stricter.steps())
        .filteredOn(Workflow.Step::reused)
        .extracting(Workflow.Step::name)
        .contains("baseline", "approach")
        .doesNotContain("tune", "gate");
    assertThat(stricter.passed()).isFalse();
    assertThat(stricter.verdict().failures()).anyMatch(f -> f.startsWith("size"));

    // A rule on a metric the task does not measure is refused after the (reused) baseline, naming
    // the metric, before any tuning.
    project("{rules: {cosine_mean: {min: 0.99}}}");
    assertThatThrownBy(() -> run(file))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("cosine_mean");
  }
}

package io.quantguard.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.Recipe;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.ArtifactVersion;
import io.quantguard.registry.Registry;
import io.quantguard.registry.Stage;
import io.quantguard.runtime.Progress;
import io.quantguard.serve.ModelKey;
import io.quantguard.serve.RolloutController;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
    return project(policy, "");
  }

  private Path project(String policy, String more) throws Exception {
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
            + "registry: {location: registry, actor: ci}\n"
            + more;
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

  @Test
  void aCandidateThatPassesTheGateIsPutInTheRegistryAsARolloutForServeToRun() throws Exception {
    Path file =
        project(
            "{name: release, rules: {accuracy: {max_drop: 1%}}}",
            "approach: fp16\n"
                + "rollout: {mode: canary, steps: [10, 50, 100], interval_s: 30, min_samples: 50}\n");
    WorkflowResult first = run(file);

    assertThat(first.passed()).isTrue();
    assertThat(first.steps()).extracting(Workflow.Step::name).endsWith("register", "rollout");
    Workflow.Rollout rollout = first.rollout();
    assertThat(rollout).isNotNull();
    assertThat(rollout.status()).isEqualTo("started");
    // Nothing held production: the FP32 model became the model's first version, in production.
    assertThat(rollout.baseline()).isEqualTo("fashion-cnn@1");
    assertThat(rollout.candidate()).isEqualTo("fashion-cnn@2");
    assertThat(rollout.steps()).containsExactly(10, 50, 100);
    assertThat(rollout.policy()).isEqualTo("fashion-cnn-live");
    assertThat(rollout.serve()).contains("--model fashion-cnn");
    Registry registry = Registry.open(tmp.resolve("registry").toString());
    assertThat(registry.version(ArtifactRef.of("fashion-cnn", 1)).stage())
        .isEqualTo(Stage.PRODUCTION);
    assertThat(registry.version(ArtifactRef.of("fashion-cnn", 1)).sha256())
        .isEqualTo(registry.version(ArtifactRef.of("fashion-cnn-fp32", 1)).sha256());
    assertThat(registry.version(ArtifactRef.of("fashion-cnn", 2)).stage()).isEqualTo(Stage.CANARY);
    // What serve resumes: the rollout under the project's settings and the task's live policy.
    try (RolloutController resumed =
        RolloutController.resume(registry, "fashion-cnn", "ci").orElseThrow()) {
      assertThat(resumed.candidate()).isEqualTo(new ModelKey("fashion-cnn", 2));
      assertThat(resumed.settings().interval()).isEqualTo(Duration.ofSeconds(30));
      assertThat(resumed.settings().minSamples()).isEqualTo(50);
    }
    assertThat(registry.activeRollout("fashion-cnn").orElseThrow().policyText())
        .contains("flip_rate");
    assertThat(Files.readString(first.summary())).contains("Rollout").contains("canary");

    // A second run reuses every step and reports where the rollout stands; it starts nothing.
    WorkflowResult again = run(file);
    assertThat(again.reusedSteps()).isEqualTo(Workflow.STEPS.size());
    assertThat(again.rollout().status()).isEqualTo("under way (running, step 1 of 3)");
    assertThat(registry.versions("fashion-cnn")).hasSize(2);

    // A project whose candidate fails its gate starts no rollout.
    Path failing = tmp.resolve("failing").resolve("quantguard.yaml");
    Files.createDirectories(failing.getParent());
    Files.writeString(
        failing,
        Files.readString(file)
            .replace("max_drop: 1%", "max_drop: 1%}, size: {max_ratio: 0.1")
            .replace("location: registry", "location: " + tmp.resolve("other-registry")));
    WorkflowResult failed =
        Workflow.builder()
            .project(Project.read(failing))
            .out(tmp.resolve("failing-out"))
            .build()
            .run();
    assertThat(failed.passed()).isFalse();
    assertThat(failed.rollout().status()).startsWith("not started");
    assertThat(Registry.open(tmp.resolve("other-registry").toString()).activeRollout("fashion-cnn"))
        .isEmpty();
  }

  @Test
  void theQatStepValidatesAndARerunAfterAKillContinuesFromItsCheckpoint() throws Exception {
    Path train = TestModels.fashionMnistSample("train-images-idx3-ubyte.gz");
    Path test = TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz");
    // one small test slice: the evaluations are not what this test is about
    Path file = tmp.resolve("quantguard.yaml");
    Files.writeString(
        file,
        "name: fashion-cnn\nmodel: "
            + TestModels.fashionCnn()
            + "\ntask: classification\ndata:\n  calibration: idx:"
            + train
            + "?input=image&limit=200\n  test:\n    test: idx:"
            + test
            + "?input=image&limit=500\n"
            + "policy: {rules: {accuracy: {max_drop: 5%}}}\n"
            + "evaluation: {batch_size: 250, bootstrap: 50, probe_samples: 16}\n"
            + "registry: {location: registry, actor: ci}\n"
            + "approach: qat\n"
            + "qat: {data: 'idx:"
            + train
            + "?input=image&limit=640', max_steps: 6, batch_size: 32, lr: 0.0001,"
            + " validation: 'idx:"
            + test
            + "?input=image&offset=1000&limit=256', validate_every: 2, patience: 4,"
            + " checkpoints: true, checkpoint_every: 2}\n");
    Path checkpoint = tmp.resolve("out/steps/tune").resolve(StepStore.CHECKPOINTS);
    Workflow.Listener killAtStep5 =
        new Workflow.Listener() {
          @Override
          public Progress progress() {
            return (stage, done, total) -> {
              if (stage.startsWith("fine-tuning") && done == 5) {
                throw new IllegalStateException("killed");
              }
            };
          }
        };
    assertThatThrownBy(
            () ->
                Workflow.builder()
                    .project(Project.read(file))
                    .out(tmp.resolve("out"))
                    .listener(killAtStep5)
                    .build()
                    .run())
        .hasMessage("killed");
    assertThat(checkpoint.resolve("checkpoint.qg")).exists();

    // The rerun keeps the checkpoint of step 4 and trains steps 5 and 6 only.
    WorkflowResult r = run(file);
    assertThat(r.candidate().trained()).isTrue();
    assertThat(r.candidate().decisions().get(0))
        .contains("6 steps")
        .contains("resumed from the checkpoint at step 4")
        .contains("validation best loss");
    OnnxModel candidate = ModelIO.load(tmp.resolve("out").resolve(r.candidate().model()));
    assertThat(candidate.metadata().get("quantguard.qat"))
        .contains("\"resumed_from_step\":4", "\"validate_every\":2", "\"patience\":4")
        .contains("\"validation_loss\":", "\"steps\":6");

    // Other training settings are other inputs: the step starts afresh, not from that checkpoint.
    Files.writeString(file, Files.readString(file).replace("max_steps: 6", "max_steps: 4"));
    WorkflowResult other = run(file);
    assertThat(other.candidate().decisions().get(0)).contains("4 steps").doesNotContain("resumed");
  }
}

package io.quantguard.release;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.evaluate.Bootstrap;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.registry.Action;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.FileBlobStore;
import io.quantguard.registry.Registration;
import io.quantguard.registry.Registry;
import io.quantguard.registry.Stage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit as a library call: the production version of a registered CNN is re-evaluated against
 * its FP32 parent on current data, judged by the policy given or the model's registered one, and
 * the outcome is recorded in the change log.
 */
class AuditTest {
  @TempDir Path tmp;

  private Registry registry;
  private final String current =
      "idx:"
          + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz")
          + "?input=image&limit=300";

  @BeforeEach
  void registerAndPromote() {
    registry =
        Registry.open(tmp.resolve("registry").toString(), new FileBlobStore(tmp.resolve("blobs")));
    Path cnn = TestModels.fashionCnn();
    Path int8 = tmp.resolve("cnn-int8.onnx");
    ModelIO.save(
        Quantizer.quantize(
                ModelIO.load(cnn),
                RecipeIO.parse("mode: dynamic", "r"),
                null,
                Quantizer.Options.defaults())
            .model(),
        int8);
    registry.register(new Registration(cnn, "cnn", null, null, null, null, "alice"));
    registry.register(new Registration(int8, "cnn", "cnn@1", null, null, null, "alice"));
    registry.promote(ArtifactRef.parse("cnn@2"), Stage.PRODUCTION, "release", "alice");
  }

  private Audit.Builder audit() {
    return Audit.of(registry)
        .version(ArtifactRef.parse("cnn"))
        .data(current)
        .task("classification")
        .bootstrap(new Bootstrap(50, 0.95, 42))
        .actor("cron");
  }

  @Test
  void judgesTheGivenPolicyAndRecordsTheOutcome() throws Exception {
    Path lenient =
        Files.writeString(tmp.resolve("lenient.yaml"), "rules:\n  accuracy: {max_drop: 5%}\n");
    Audit a = audit().policy(lenient).build();
    assertThat(a.version().ref()).isEqualTo(ArtifactRef.of("cnn", 2));
    assertThat(a.baseline().ref()).isEqualTo(ArtifactRef.of("cnn", 1));
    assertThat(a.policy().given()).isTrue();
    assertThat(a.policy().why()).contains("no registered policy");

    AuditResult r = a.run();
    assertThat(r.passed()).isTrue();
    assertThat(r.report().candidates()).hasSize(1);
    assertThat(r.entry().action()).isEqualTo(Action.AUDIT);
    assertThat(r.entry().details())
        .containsEntry("passed", true)
        .containsEntry("policy", "lenient.yaml")
        .containsEntry("policyFrom", "file")
        .containsEntry("baseline", "cnn@1")
        .containsEntry("task", "classification");
    assertThat(registry.log("cnn", 1)).containsExactly(r.entry());

    Path strict =
        Files.writeString(tmp.resolve("strict.yaml"), "rules:\n  size: {max_ratio: 0.1}\n");
    AuditResult failed = audit().policy(strict).reason("alarm").run();
    assertThat(failed.passed()).isFalse();
    assertThat(failed.entry().reason()).isEqualTo("alarm");
    assertThat(failed.entry().details()).containsEntry("passed", false);
  }

  @Test
  void judgesTheRegisteredPolicyWhenNoneIsGiven() throws Exception {
    assertThatThrownBy(() -> audit().build())
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining(
            "audit.policy: is required: cnn has no registered policy for production");
    String text = "name: release\nrules:\n  accuracy: {max_drop: 5%}\n";
    registry.setPolicy("cnn", null, text, "release.yaml", "first policy", "alice");
    Audit a = audit().build();
    assertThat(a.policy().given()).isFalse();
    assertThat(a.policy().label()).isEqualTo("release (registered)");
    assertThat(a.policy().why()).contains("registered policy for every stage");

    Path other =
        Files.writeString(tmp.resolve("other.yaml"), "rules:\n  accuracy: {max_drop: 9%}\n");
    PolicyChoice overridden = audit().policy(other).build().policy();
    assertThat(overridden.overridesRegistered()).isTrue();
    assertThat(overridden.why()).contains("not the model's registered policy").contains("release");

    assertThatThrownBy(() -> Audit.of(registry).version(ArtifactRef.parse("cnn")).build())
        .hasMessageContaining("Audit.data: is required");
    assertThatThrownBy(() -> audit().task(null).build())
        .hasMessageContaining("audit.task: is required: cnn@2 was registered without");
  }
}

package io.quantguard.release;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.QuantGuard;
import io.quantguard.onnx.QuantizationProvenance;
import io.quantguard.onnx.RunEnvironment;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.QuantizationResult;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.registry.Action;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.ArtifactVersion;
import io.quantguard.registry.ChangeLogEntry;
import io.quantguard.registry.FileBlobStore;
import io.quantguard.registry.Registration;
import io.quantguard.registry.Registry;
import io.quantguard.registry.Reproduction;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reproduction rebuilds a registered version from its parent and recorded recipe, byte for byte,
 * and names what differs from the record: the data, the tool version, and where the model was
 * quantized (from its provenance, not from the process that registered it).
 */
class ReproducerTest {
  @TempDir Path tmp;

  private Registry registry;
  private final Path cnn = TestModels.fashionCnn();
  private final String train =
      "idx:" + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz") + "?input=image";

  @BeforeEach
  void open() {
    registry =
        Registry.open(tmp.resolve("registry").toString(), new FileBlobStore(tmp.resolve("blobs")));
    register(cnn, "cnn", null);
  }

  private ArtifactVersion register(Path file, String model, String parent) {
    return registry.register(new Registration(file, model, parent, null, null, null, "alice"));
  }

  private Reproduction reproduce(ArtifactVersion v, String calibration) {
    return Reproducer.reproduce(
        registry,
        v.ref(),
        calibration != null ? DataSpec.parse(calibration) : null,
        Quantizer.Options.defaults(),
        "bob");
  }

  /** The CNN quantized dynamically, saved after {@code edit} changed its model. */
  private Path dynamicInt8(String name, Consumer<OnnxModel> edit) {
    QuantizationResult q =
        Quantizer.quantize(
            ModelIO.load(cnn),
            RecipeIO.parse("mode: dynamic", "r"),
            null,
            Quantizer.Options.defaults());
    edit.accept(q.model());
    Path out = tmp.resolve(name);
    ModelIO.save(q.model(), out);
    return out;
  }

  @Test
  void rebuildsADynamicModelByteForByteOrSaysWhatDiffers() {
    ArtifactVersion same = register(dynamicInt8("same.onnx", m -> {}), "cnn", "cnn@1");
    Reproduction r = reproduce(same, null);
    assertThat(r.identical()).isTrue();
    assertThat(r.differences()).isEmpty();
    assertThat(r.reproducedSha256()).isEqualTo(same.sha256());

    // As if an older QuantGuard had made it.
    ArtifactVersion old =
        register(
            dynamicInt8("old.onnx", m -> m.putMetadata(QuantizationProvenance.VERSION, "0.0.9")),
            "cnn",
            "cnn@1");
    Reproduction other = reproduce(old, null);
    assertThat(other.identical()).isFalse();
    assertThat(other.differences())
        .extracting(Reproduction.Difference::what)
        .containsExactly("tool version", "bytes");
    assertThat(other.differences().get(0).recorded()).isEqualTo("0.0.9");
    assertThat(other.differences().get(0).now()).isEqualTo(QuantGuard.VERSION);
    assertThat(other.differences().get(1).now()).contains("first difference at byte");

    List<ChangeLogEntry> log = registry.log("cnn", Action.REPRODUCE, 2);
    assertThat(log).extracting(ChangeLogEntry::action).containsOnly(Action.REPRODUCE);
    assertThat(log.get(0).details()).containsEntry("identical", true);
    assertThat(log.get(1).details()).containsEntry("identical", false).containsKey("tool version");
    assertThatThrownBy(() -> reproduce(registry.version(ArtifactRef.parse("cnn@1")), null))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("records no recipe");
  }

  @Test
  void namesTheEnvironmentTheModelWasQuantizedInNotTheRegisteringOne() {
    RunEnvironment here = RunEnvironment.current("unused");
    ArtifactVersion v =
        register(
            dynamicInt8(
                "elsewhere.onnx",
                m -> {
                  m.putMetadata("quantguard.environment.onnx_runtime", "1.17.3");
                  m.putMetadata("quantguard.environment.cpu_model", "Neoverse-V2");
                }),
            "cnn",
            "cnn@1");
    assertThat(v.environment().onnxRuntime()).isEqualTo("1.17.3");
    assertThat(v.environment().cpuModel()).isEqualTo("Neoverse-V2");

    Reproduction r = reproduce(v, null);
    assertThat(r.identical())
        .as("the same weights: where it ran is a note, not a different model")
        .isTrue();
    assertThat(r.differences())
        .extracting(Reproduction.Difference::what)
        .contains("onnx runtime", "cpu model")
        .doesNotContain("bytes");
    Reproduction.Difference ort =
        r.differences().stream().filter(d -> d.what().equals("onnx runtime")).findFirst().get();
    assertThat(ort.recorded()).isEqualTo("1.17.3");
    assertThat(ort.now()).isNotEqualTo("1.17.3").startsWith("1.");
    Reproduction.Difference cpu =
        r.differences().stream().filter(d -> d.what().equals("cpu model")).findFirst().get();
    assertThat(cpu.recorded()).isEqualTo("Neoverse-V2");
    assertThat(cpu.now()).isEqualTo(here.cpuModel() != null ? here.cpuModel() : "(none)");
  }

  @Test
  void rebuildsACalibratedCnnAndNamesTheDataThatDiffers() {
    QuantizationResult q =
        Quantizer.quantize(
            ModelIO.load(cnn),
            RecipeIO.parse("mode: static\ncalibration: {samples: 64, batch_size: 32}", "r"),
            DataSpec.parse(train),
            Quantizer.Options.defaults());
    Path int8 = tmp.resolve("cnn-int8.onnx");
    ModelIO.save(q.model(), int8);
    ArtifactVersion v = register(int8, "cnn", "cnn@1");
    assertThat(v.calibrationSamples()).isEqualTo(64L);
    assertThat(v.calibrationFingerprint()).isEqualTo(q.report().calibrationFingerprint());
    assertThat(v.fingerprintScheme()).isEqualTo(2);

    assertThat(reproduce(v, train).identical()).isTrue();
    String test =
        "idx:" + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz") + "?input=image";
    Reproduction wrongData = reproduce(v, test);
    assertThat(wrongData.identical()).isFalse();
    assertThat(wrongData.differences())
        .extracting(Reproduction.Difference::what)
        .containsExactly("data fingerprint", "bytes");
    assertThatThrownBy(() -> reproduce(v, null))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("calibration: is required");
  }
}

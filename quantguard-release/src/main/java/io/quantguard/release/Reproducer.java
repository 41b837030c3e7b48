package io.quantguard.release;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.QuantGuard;
import io.quantguard.onnx.QuantizationProvenance;
import io.quantguard.onnx.RunEnvironment;
import io.quantguard.quantize.QuantizationResult;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.ArtifactVersion;
import io.quantguard.registry.Registry;
import io.quantguard.registry.Reproduction;
import io.quantguard.report.Sha256;
import io.quantguard.runtime.data.DataSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Rebuilds a registered version from its parent and recorded recipe, compares the bytes, records
 * the outcome in the registry's change log, and lists every recorded input that is not what this
 * run used, so a failed reproduction says why rather than only that it failed.
 *
 * <p>The model records where it was quantized (ONNX Runtime, Java, OS, CPU) and with which session
 * settings; a rebuild elsewhere writes its own. Those records describe the run, not the model, so
 * the comparison puts the recorded ones back into the rebuilt model before comparing bytes, and
 * lists every difference: identical bytes on another machine are a reproduction, with notes.
 */
public final class Reproducer {
  private Reproducer() {}

  /**
   * Rebuilds {@code ref} and records the outcome.
   *
   * @param calibration the calibration data; required when the version was calibrated
   * @param options how to run (session settings, progress)
   * @param actor who asked, for the change log
   * @throws InvalidInputException when the version records no recipe or parent, or calibration data
   *     is missing
   */
  public static Reproduction reproduce(
      Registry registry,
      ArtifactRef ref,
      @Nullable DataSource calibration,
      Quantizer.Options options,
      String actor) {
    ArtifactVersion v = registry.version(ref);
    QuantizationProvenance made = v.provenance();
    if (made == null) {
      throw new InvalidInputException(
          v.ref().toString(),
          "records no recipe (it was not quantized by QuantGuard)",
          "only versions QuantGuard quantized can be reproduced");
    }
    if (made.training() != null) {
      throw new InvalidInputException(
          v.ref().toString(),
          "was trained quantization-aware: its weights came from training, which re-running the"
              + " recipe on its parent does not repeat",
          "retrain it with the settings it records (registry show lists them; the same seed gives"
              + " the same bytes)");
    }
    if (v.parent() == null) {
      throw new InvalidInputException(
          v.ref().toString(),
          "has no recorded parent, so there is no FP32 model to re-run its recipe on",
          "register the FP32 model, then register this file again with its parent");
    }
    if (v.calibrationFingerprint() != null && calibration == null) {
      throw InvalidInputException.forParameter(
          "reproduction.calibration",
          null,
          "is required: "
              + v.ref()
              + " was calibrated on "
              + (v.calibrationSamples() != null ? v.calibrationSamples() + " samples of " : "")
              + "data with fingerprint "
              + v.calibrationFingerprint()
                  .substring(0, Math.min(16, v.calibrationFingerprint().length())),
          "give the data it was quantized with");
    }
    ArtifactVersion parent = registry.version(v.parent());
    byte[] registered = registry.modelBytes(v.ref());
    OnnxModel fp32 =
        ModelIO.load(
            registry.modelBytes(parent.ref()), parent.ref() + " (" + parent.fileName() + ")");
    Reproduction outcome = rebuild(v, made, registered, fp32, calibration, options);
    registry.recordReproduction(
        v.ref(), outcome, calibration != null ? calibration.name() : null, actor);
    return outcome;
  }

  private static Reproduction rebuild(
      ArtifactVersion v,
      QuantizationProvenance made,
      byte[] registered,
      OnnxModel fp32,
      @Nullable DataSource calibration,
      Quantizer.Options options) {
    // What the registered bytes themselves record (the registry may have filled in a mode).
    QuantizationProvenance recorded =
        QuantizationProvenance.read(ModelIO.load(registered, v.ref().toString())).orElse(made);
    Recipe recipe = RecipeIO.parse(made.recipeJson(), v.ref() + " (recorded recipe)");
    QuantizationResult result = Quantizer.quantize(fp32, recipe, calibration, options);
    OnnxModel model = result.model();
    QuantizationProvenance now = QuantizationProvenance.read(model).orElseThrow();

    List<Reproduction.Difference> diffs = new ArrayList<>();
    differ(diffs, "recipe hash", v.recipeSha256(), now.recipeSha256());
    differ(diffs, "data fingerprint", v.calibrationFingerprint(), now.calibrationFingerprint());
    if (recorded.fingerprintScheme() != null) {
      // A fingerprint of another definition differs whatever the data: say why.
      differ(diffs, "fingerprint scheme", recorded.fingerprintScheme(), now.fingerprintScheme());
    }
    if (v.calibrationSamples() != null) {
      differ(diffs, "calibration samples", v.calibrationSamples(), now.calibrationSamples());
    }
    differ(diffs, "tool version", v.toolVersion(), QuantGuard.VERSION);
    if (recorded.session() != null) {
      differ(diffs, "calibration session", describe(recorded.session()), describe(now.session()));
    }
    RunEnvironment was = recorded.environment();
    if (was != null) {
      RunEnvironment is = now.environment();
      differ(diffs, "onnx runtime", was, is, RunEnvironment::onnxRuntime);
      differ(diffs, "java", was, is, RunEnvironment::java);
      differ(diffs, "os", was, is, RunEnvironment::os);
      differ(diffs, "cpus", was, is, RunEnvironment::cpus);
      differ(diffs, "cpu model", was, is, RunEnvironment::cpuModel);
    }

    // Put the recorded description of the run back; keep what identifies the model.
    new QuantizationProvenance(
            now.toolVersion(),
            now.recipeJson(),
            now.recipeSha256(),
            recorded.mode(),
            now.calibrationFingerprint(),
            recorded.fingerprintScheme(),
            now.calibrationSamples(),
            recorded.session(),
            recorded.environment(),
            null)
        .write(model);
    byte[] rebuilt = saved(model);
    boolean identical = Arrays.equals(registered, rebuilt);
    String rebuiltSha = Sha256.of(rebuilt);
    if (!identical) {
      diffs.add(
          new Reproduction.Difference(
              "bytes",
              registered.length + " bytes, sha256 " + v.sha256(),
              rebuilt.length
                  + " bytes, sha256 "
                  + rebuiltSha
                  + ", first difference at byte "
                  + Arrays.mismatch(registered, rebuilt)));
    }
    return new Reproduction(
        v.ref(), identical, v.sha256(), rebuiltSha, registered.length, rebuilt.length, diffs);
  }

  private static void differ(
      List<Reproduction.Difference> diffs,
      String what,
      RunEnvironment was,
      @Nullable RunEnvironment is,
      Function<RunEnvironment, @Nullable Object> field) {
    differ(diffs, what, field.apply(was), is == null ? null : field.apply(is));
  }

  private static void differ(
      List<Reproduction.Difference> diffs,
      String what,
      @Nullable Object recorded,
      @Nullable Object now) {
    if (!Objects.equals(recorded, now)) {
      diffs.add(new Reproduction.Difference(what, orNone(recorded), orNone(now)));
    }
  }

  private static @Nullable String describe(QuantizationProvenance.@Nullable Session s) {
    return s == null
        ? null
        : "optimization="
            + s.optimization()
            + ", intra-op threads="
            + s.intraOpThreads()
            + ", inter-op threads="
            + s.interOpThreads()
            + ", provider="
            + s.provider();
  }

  /** The bytes {@code ModelIO.save} writes for the model (what quantizing to a file gives). */
  private static byte[] saved(OnnxModel m) {
    try (ScratchDirectory dir = new ScratchDirectory("quantguard-reproduce")) {
      Path f = dir.resolve("model.onnx");
      ModelIO.save(m, f);
      return Files.readAllBytes(f);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String orNone(@Nullable Object s) {
    return s == null || s.toString().isEmpty() ? "(none)" : s.toString();
  }
}

package io.quantguard.registry;

import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.quantize.QuantizationResult;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.report.Sha256;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.data.DataSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Rebuilds a version from its parent and recorded recipe, and lists every recorded input that is
 * not what this run used, so a failed reproduction says why rather than only that it failed.
 */
final class Reproducer {
  private Reproducer() {}

  static Reproduction run(
      ArtifactVersion v,
      byte[] registered,
      ArtifactVersion parent,
      byte[] parentBytes,
      DataSource calibration,
      Quantizer.Options options) {
    Recipe recipe = RecipeIO.parse(v.recipeJson(), v.ref() + " (recorded recipe)");
    OnnxModel fp32 = ModelIO.load(parentBytes, parent.ref() + " (" + parent.fileName() + ")");
    QuantizationResult result = Quantizer.quantize(fp32, recipe, calibration, options);
    byte[] rebuilt = saved(result.model());

    List<Reproduction.Difference> diffs = new ArrayList<>();
    String recipeSha = RecipeIO.sha256(recipe.resolved());
    if (!recipeSha.equals(v.recipeSha256())) {
      diffs.add(new Reproduction.Difference("recipe hash", v.recipeSha256(), recipeSha));
    }
    String fingerprint = result.report().calibrationFingerprint();
    if (!Objects.equals(blankToNull(v.calibrationFingerprint()), blankToNull(fingerprint))) {
      diffs.add(
          new Reproduction.Difference(
              "data fingerprint", orNone(v.calibrationFingerprint()), orNone(fingerprint)));
    }
    long samples = result.report().calibrationSamples();
    if (v.calibrationSamples() != null && v.calibrationSamples() != samples) {
      diffs.add(
          new Reproduction.Difference(
              "calibration samples", v.calibrationSamples().toString(), Long.toString(samples)));
    }
    if (!Objects.equals(v.toolVersion(), options.toolVersion())) {
      diffs.add(
          new Reproduction.Difference(
              "tool version", orNone(v.toolVersion()), orNone(options.toolVersion())));
    }
    String ort = InferenceSession.runtimeVersion();
    if (!Objects.equals(v.environment().onnxRuntime(), ort)) {
      diffs.add(new Reproduction.Difference("onnx runtime", v.environment().onnxRuntime(), ort));
    }
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

  /** The bytes {@code quantguard quantize -o} would write for the model. */
  private static byte[] saved(OnnxModel m) {
    Path dir = null;
    try {
      dir = Files.createTempDirectory("quantguard-reproduce");
      Path f = dir.resolve("model.onnx");
      ModelIO.save(m, f);
      return Files.readAllBytes(f);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      if (dir != null) {
        try (Stream<Path> s = Files.list(dir)) {
          for (Path p : s.toList()) {
            Files.deleteIfExists(p);
          }
          Files.deleteIfExists(dir);
        } catch (IOException ignored) {
          // a temporary directory left behind is harmless
        }
      }
    }
  }

  private static String blankToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  private static String orNone(String s) {
    return s == null || s.isEmpty() ? "(none)" : s;
  }
}

package io.quantguard.serve;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.registry.ArtifactVersion;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Opens a {@link ModelSource}: exports a registry version (verified against its SHA-256) to a
 * private temporary file, opens an ONNX Runtime session on it with the server's thread settings,
 * reads the signature from the graph and runs it once on zeros so the first client does not pay for
 * ONNX Runtime's lazy initialization.
 */
final class ModelLoader {
  private ModelLoader() {}

  /** An opened, warmed-up model version; the caller owns the runner. */
  record LoadedModel(ModelKey key, String origin, ModelSignature signature, ModelRunner runner) {}

  static LoadedModel open(ModelSource source, SessionConfig config) {
    if (source instanceof ModelSource.File f) {
      if (!Files.isRegularFile(f.path())) {
        throw InvalidInputException.forParameter(
            "server.modelFile",
            f,
            "no such file",
            "give the path of an ONNX model file (NAME=PATH)");
      }
      return open(new ModelKey(f.name(), f.version()), "file " + f.path(), f.path(), config);
    }
    ModelSource.Registered r = (ModelSource.Registered) source;
    ArtifactVersion v = r.registry().version(r.ref());
    String origin =
        "registry "
            + v.ref()
            + " ("
            + v.stage().id()
            + ", sha256 "
            + v.sha256().substring(0, 12)
            + ")";
    Path dir = null;
    try {
      dir = Files.createTempDirectory("quantguard-serve");
      Path file = dir.resolve("model.onnx");
      r.registry().export(v.ref(), file);
      return open(new ModelKey(v.model(), v.version()), origin, file, config);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot stage " + v.ref() + " for ONNX Runtime", e);
    } finally {
      deleteQuietly(dir);
    }
  }

  private static LoadedModel open(ModelKey key, String origin, Path file, SessionConfig config) {
    ModelSignature signature = ModelSignature.of(ModelIO.load(file));
    for (TensorSpec in : signature.inputs()) {
      if (OipDatatype.of(in.type()).filter(OipDatatype::feedable).isEmpty()) {
        throw new InvalidInputException(
            origin,
            "input '" + in.name() + "' is " + in.datatype() + ", which this server cannot feed",
            "serve models whose inputs are FP32, INT64, INT32, INT8, UINT8 or BOOL");
      }
    }
    InferenceSession session = InferenceSession.open(file, config);
    ModelRunner runner = ModelRunner.session(session);
    try {
      runner.run(zeros(signature), signature.outputNames());
    } catch (RuntimeException e) {
      runner.close();
      throw new InvalidInputException(
          origin,
          "the warm-up run on zeros (free dimensions set to 1) failed: " + e.getMessage(),
          "check that ONNX Runtime can run the model",
          e);
    }
    return new LoadedModel(key, origin, signature, runner);
  }

  /** One all-zero tensor per input, every free dimension 1. */
  static Map<String, Tensor> zeros(ModelSignature signature) {
    return zeros(signature, 1);
  }

  /** One all-zero tensor per input: a free first dimension {@code rows}, other free ones 1. */
  static Map<String, Tensor> zeros(ModelSignature signature, int rows) {
    Map<String, Tensor> feed = new LinkedHashMap<>();
    for (TensorSpec in : signature.inputs()) {
      long[] spec = in.shape();
      long[] shape = new long[spec.length];
      for (int i = 0; i < spec.length; i++) {
        shape[i] = spec[i] >= 0 ? spec[i] : i == 0 ? rows : 1;
      }
      int n = Math.toIntExact(Arrays.stream(shape).reduce(1, Math::multiplyExact));
      feed.put(
          in.name(),
          switch (in.type()) {
            case FLOAT -> Tensor.ofFloats(new float[n], shape);
            case INT64 -> Tensor.ofLongs(new long[n], shape);
            case INT32 -> Tensor.ofInts(new int[n], shape);
            default -> Tensor.ofBytes(in.type(), new byte[n], shape);
          });
    }
    return feed;
  }

  static void deleteQuietly(@Nullable Path dir) {
    if (dir == null) {
      return;
    }
    try (var files = Files.list(dir)) {
      for (Path p : files.toList()) {
        Files.deleteIfExists(p);
      }
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      // A leftover temporary copy of a registered model is harmless; the blob store keeps the
      // truth.
    }
  }
}

package io.quantguard.serve;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.Registry;
import io.quantguard.registry.Stage;
import java.nio.file.Path;

/**
 * Where a served model comes from: a registry reference ({@code NAME}, {@code NAME@production},
 * {@code NAME@3}) or a plain ONNX file for tests and quick use. Names are checked like registry
 * names, and a registry model is read only through the registry's verified export, so nothing a
 * client or an operator types reaches a path outside the registry.
 */
public sealed interface ModelSource {
  /** The name clients use in URLs. */
  String name();

  /**
   * A registered model. A reference without a version or stage means the version in {@code
   * production}.
   */
  record Registered(Registry registry, ArtifactRef ref) implements ModelSource {
    public Registered {
      if (!ref.pinned()) {
        ref = new ArtifactRef(ref.model(), null, Stage.PRODUCTION);
      }
    }

    @Override
    public String name() {
      return ref.model();
    }

    @Override
    public String toString() {
      return ref + " from " + registry.location();
    }
  }

  /** An ONNX file served as {@code name}, version {@code version}. */
  record File(String name, int version, Path path) implements ModelSource {
    public File {
      new ModelKey(name, version);
    }

    @Override
    public String toString() {
      return name + "@" + version + "=" + path;
    }
  }

  /** Parses {@code --model-file NAME[@VERSION]=PATH}. */
  static File parseFile(String spec) {
    int eq = spec.indexOf('=');
    if (eq <= 0 || eq == spec.length() - 1) {
      throw InvalidInputException.forParameter(
          "server.modelFile",
          spec,
          "is not NAME=PATH",
          "write it as NAME=PATH or NAME@VERSION=PATH, e.g. cnn=model.onnx");
    }
    String head = spec.substring(0, eq);
    Path path = Path.of(spec.substring(eq + 1));
    int at = head.indexOf('@');
    if (at < 0) {
      return new File(head, 1, path);
    }
    String v = head.substring(at + 1);
    if (!v.matches("[1-9][0-9]{0,8}")) {
      throw InvalidInputException.forParameter(
          "server.modelFile",
          spec,
          "'" + v + "' is not a version number",
          "use NAME@VERSION=PATH with VERSION 1 or more");
    }
    return new File(head.substring(0, at), Integer.parseInt(v), path);
  }
}

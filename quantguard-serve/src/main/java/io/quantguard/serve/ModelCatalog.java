package io.quantguard.serve;

import java.util.List;
import java.util.Optional;

/** What the server serves right now, as a {@link Router} sees it. */
public interface ModelCatalog {
  /** The versions served under {@code name}, oldest first; empty for an unknown name. */
  List<ModelKey> versions(String name);

  /**
   * The version that answers requests naming no version: the first {@code --model} given for the
   * name.
   */
  Optional<ModelKey> defaultVersion(String name);

  /** The signature of a served version. */
  Optional<ModelSignature> signature(ModelKey key);
}

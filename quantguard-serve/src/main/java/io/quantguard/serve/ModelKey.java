package io.quantguard.serve;

import io.quantguard.registry.ArtifactRef;

/**
 * One served model version: the name clients use in URLs and the version number ({@code
 * /v2/models/NAME/versions/VERSION}). For a model from the registry the version is its registry
 * version number.
 */
public record ModelKey(String name, int version) implements Comparable<ModelKey> {
  public ModelKey {
    // Served names follow the registry's rule (letters, digits, '.', '_', '-'), checked there.
    new ArtifactRef(name, null, null);
    if (version < 1) {
      throw new IllegalArgumentException("versions start at 1, not " + version);
    }
  }

  @Override
  public int compareTo(ModelKey o) {
    int c = name.compareTo(o.name);
    return c != 0 ? c : Integer.compare(version, o.version);
  }

  @Override
  public String toString() {
    return name + "@" + version;
  }
}

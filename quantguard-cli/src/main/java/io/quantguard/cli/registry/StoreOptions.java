package io.quantguard.cli.registry;

import io.quantguard.registry.FileBlobStore;
import io.quantguard.registry.Registry;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/** Options every registry command takes: where the registry and its blobs are, and --json. */
public final class StoreOptions {
  @Option(
      names = "--registry",
      paramLabel = "DIR|URL",
      description =
          "registry directory (SQLite) or jdbc:postgresql://... URL"
              + " (default: $QUANTGUARD_REGISTRY, else ~/.quantguard)")
  @Nullable String registry;

  @Option(
      names = "--blobs",
      paramLabel = "DIR",
      description =
          "where model files are stored (default: DIR/blobs for a directory registry;"
              + " $QUANTGUARD_BLOBS or ~/.quantguard/blobs for PostgreSQL)")
  @Nullable Path blobs;

  @Option(names = "--json", description = "print JSON")
  boolean json;

  /** Whether to print JSON rather than text. */
  public boolean json() {
    return json;
  }

  /** Opens (creating or migrating) the registry. */
  public Registry open() {
    String location = registry != null ? registry : Registry.defaultLocation();
    Path dir = blobs != null ? blobs : Registry.defaultBlobs(location);
    return Registry.open(location, new FileBlobStore(dir));
  }
}

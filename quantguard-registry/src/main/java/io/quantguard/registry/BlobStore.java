package io.quantguard.registry;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Content-addressed storage for model files and reports: a blob's address is the SHA-256 of its
 * bytes, so the same file is stored once and any change to it is detectable. Implementations must
 * make a blob appear whole or not at all, and must check the hash on every read, refusing a blob
 * whose bytes no longer match ({@link CorruptBlobException}). The registry keeps only addresses in
 * its database, so an object store can take the file system's place.
 */
public interface BlobStore {
  /** Stores the stream's bytes (atomically: whole or not at all) and returns their address. */
  Blob put(InputStream in);

  /** Stores a file's bytes. */
  default Blob put(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return put(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /**
   * The blob's bytes, verified against the address.
   *
   * @throws CorruptBlobException when the blob is missing or its bytes do not hash to the address
   */
  byte[] read(String sha256);

  /**
   * Writes the blob to {@code target} (atomically), verified against the address first.
   *
   * @throws CorruptBlobException when the blob is missing or its bytes do not hash to the address
   */
  void copyTo(String sha256, Path target);

  /** Where the blob lives, for messages (a path or URL). */
  String locate(String sha256);
}

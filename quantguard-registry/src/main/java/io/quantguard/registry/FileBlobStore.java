package io.quantguard.registry;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.report.AtomicFile;
import io.quantguard.report.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.regex.Pattern;

/**
 * Blobs as files under a directory: {@code sha256/ab/abcdef...} (two-character fan-out keeps
 * directories small). A write streams into {@code tmp/}, hashing as it goes, is flushed to disk and
 * then renamed to its address, so a process killed mid-write leaves only a temporary file that no
 * reader looks at (temporary files older than a day are removed when a store is opened). Every read
 * hashes the bytes again and refuses a mismatch.
 */
public final class FileBlobStore implements BlobStore {
  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  private static final Duration STALE = Duration.ofDays(1);

  private final Path root;

  public FileBlobStore(Path root) {
    this.root = root.toAbsolutePath().normalize();
    try {
      Files.createDirectories(this.root.resolve("tmp"));
      Files.createDirectories(this.root.resolve("sha256"));
    } catch (IOException e) {
      throw new InvalidInputException(
          this.root.toString(),
          "cannot create the blob directory: " + e.getMessage(),
          "check the path and permissions of the blob directory",
          e);
    }
    removeStaleTemporaries();
  }

  public Path root() {
    return root;
  }

  /** The file that holds (or would hold) a blob. */
  public Path path(String sha256) {
    if (!SHA256.matcher(sha256).matches()) {
      throw new IllegalArgumentException("not a SHA-256 address: " + sha256);
    }
    return shard(sha256).resolve(sha256);
  }

  /** The directory a blob's file sits in: blobs are spread over 256 by their first hex digits. */
  private Path shard(String sha256) {
    return root.resolve("sha256").resolve(sha256.substring(0, 2));
  }

  @Override
  public String locate(String sha256) {
    return path(sha256).toString();
  }

  @Override
  public Blob put(InputStream in) {
    Path tmp = null;
    try {
      tmp = Files.createTempFile(root.resolve("tmp"), "blob-", ".tmp");
      MessageDigest md = Sha256.digest();
      long size;
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE);
          OutputStream out = Channels.newOutputStream(ch)) {
        size = new DigestInputStream(in, md).transferTo(out);
        out.flush();
        ch.force(true);
      }
      String sha = Sha256.hex(md);
      Path shard = shard(sha);
      Files.createDirectories(shard);
      // Replacing an existing blob is harmless (same bytes) and heals one damaged on disk.
      move(tmp, shard.resolve(sha));
      syncDirectory(shard);
      return new Blob(sha, size);
    } catch (IOException e) {
      throw new InvalidInputException(
          root.toString(),
          "cannot store a blob: " + e.getMessage(),
          "check free space and permissions of the blob directory",
          e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // left for the stale-file sweep
        }
      }
    }
  }

  @Override
  public byte[] read(String sha256) {
    Path p = path(sha256);
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(p);
    } catch (NoSuchFileException e) {
      throw missing(sha256);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read blob " + p, e);
    }
    verify(sha256, Sha256.of(bytes));
    return bytes;
  }

  @Override
  public void copyTo(String sha256, Path target) {
    Path p = path(sha256);
    Path dir = target.toAbsolutePath().getParent();
    Path tmp = null;
    try {
      Files.createDirectories(dir);
      tmp = AtomicFile.shareable(Files.createTempFile(dir, "." + target.getFileName(), ".tmp"));
      MessageDigest md = Sha256.digest();
      try (InputStream in = new DigestInputStream(Files.newInputStream(p), md);
          OutputStream out = Files.newOutputStream(tmp)) {
        in.transferTo(out);
      } catch (NoSuchFileException e) {
        throw missing(sha256);
      }
      verify(sha256, Sha256.hex(md));
      move(tmp, target.toAbsolutePath());
    } catch (IOException e) {
      throw new InvalidInputException(
          target.toString(), "cannot write: " + e.getMessage(), "check the path and free space", e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // nothing more to do
        }
      }
    }
  }

  private void verify(String expected, String actual) {
    if (!expected.equals(actual)) {
      throw new CorruptBlobException(
          locate(expected),
          "is corrupted: its bytes hash to sha256 "
              + actual
              + ", not to the address it was stored under",
          "the file was changed on disk after it was stored; restore it from a backup or register"
              + " the model file again (the registry refuses to serve it until then)");
    }
  }

  private CorruptBlobException missing(String sha256) {
    return new CorruptBlobException(
        locate(sha256),
        "is missing from the blob store",
        "restore the blob directory from a backup, or check that it is the store the registry"
            + " was written with");
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static void syncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // not every platform can sync a directory; the rename is still atomic
    }
  }

  private void removeStaleTemporaries() {
    Instant cutoff = Instant.now().minus(STALE);
    try (DirectoryStream<Path> s = Files.newDirectoryStream(root.resolve("tmp"), "blob-*.tmp")) {
      for (Path p : s) {
        FileTime t = Files.getLastModifiedTime(p);
        if (t.toInstant().isBefore(cutoff)) {
          Files.deleteIfExists(p);
        }
      }
    } catch (IOException e) {
      // a sweep that fails is retried on the next open
    }
  }
}

package io.quantguard.registry;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A separate JVM for the reliability tests (started with the test class path):
 *
 * <ul>
 *   <li>{@code promote LOCATION BLOBS GO_FILE MODEL N V1 V2}: waits for GO_FILE, then promotes V1
 *       and V2 to production alternately, N times, and prints the change-log numbers it got.
 *   <li>{@code register-slow LOCATION BLOBS FILE MODEL}: registers FILE through a blob store that
 *       writes slowly, printing WRITING once bytes flow (to be killed mid-write).
 *   <li>{@code register-stall LOCATION BLOBS FILE MODEL}: stores the blob, prints BLOB-STORED and
 *       stalls before the database transaction (to be killed between the two).
 * </ul>
 */
public final class RegistryChild {
  private RegistryChild() {}

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    String location = args[1];
    FileBlobStore files = new FileBlobStore(Path.of(args[2]));
    switch (mode) {
      case "promote" -> promote(location, files, args);
      case "register-slow" -> register(location, new SlowBlobStore(files), args);
      case "register-stall" -> register(location, new StallingBlobStore(files), args);
      default -> throw new IllegalArgumentException(mode);
    }
    System.out.flush();
    System.exit(0);
  }

  private static void promote(String location, BlobStore blobs, String[] args) throws Exception {
    Registry registry = Registry.open(location, blobs);
    Path go = Path.of(args[3]);
    String model = args[4];
    int n = Integer.parseInt(args[5]);
    int[] versions = {Integer.parseInt(args[6]), Integer.parseInt(args[7])};
    System.out.println("READY");
    System.out.flush();
    while (!Files.exists(go)) {
      Thread.sleep(2);
    }
    List<Long> seqs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ChangeLogEntry e =
          registry.promote(
              ArtifactRef.of(model, versions[i % 2]),
              Stage.PRODUCTION,
              "concurrency test " + ProcessHandle.current().pid() + " #" + i,
              "child-" + ProcessHandle.current().pid());
      seqs.add(e.seq());
    }
    System.out.println("SEQS " + seqs);
  }

  private static void register(String location, BlobStore blobs, String[] args) {
    Registry registry = Registry.open(location, blobs);
    registry.register(
        new Registration(Path.of(args[3]), args[4], null, null, null, "killed", "child"));
    System.out.println("REGISTERED");
  }

  /** Writes through to the file store, 4 KiB every 20 ms. */
  private static final class SlowBlobStore extends ForwardingBlobStore {
    SlowBlobStore(BlobStore d) {
      super(d);
    }

    @Override
    public Blob put(InputStream in) {
      return delegate.put(
          new FilterInputStream(in) {
            boolean told;

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
              if (!told) {
                System.out.println("WRITING");
                System.out.flush();
                told = true;
              }
              try {
                Thread.sleep(20);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              return super.read(b, off, Math.min(len, 4096));
            }
          });
    }
  }

  /** Stores the blob, then stalls before the registry writes its row. */
  private static final class StallingBlobStore extends ForwardingBlobStore {
    StallingBlobStore(BlobStore d) {
      super(d);
    }

    @Override
    public Blob put(InputStream in) {
      Blob b = delegate.put(in);
      System.out.println("BLOB-STORED " + b.sha256());
      System.out.flush();
      try {
        Thread.sleep(120_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return b;
    }
  }

  private abstract static class ForwardingBlobStore implements BlobStore {
    final BlobStore delegate;

    ForwardingBlobStore(BlobStore delegate) {
      this.delegate = delegate;
    }

    @Override
    public byte[] read(String sha256) {
      return delegate.read(sha256);
    }

    @Override
    public void copyTo(String sha256, Path target) {
      delegate.copyTo(sha256, target);
    }

    @Override
    public String locate(String sha256) {
      return delegate.locate(sha256);
    }
  }
}

package io.quantguard.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileBlobStoreTest {
  @TempDir Path tmp;

  @Test
  void storesBytesUnderTheirSha256Once() throws IOException {
    FileBlobStore store = new FileBlobStore(tmp);
    byte[] abc = "abc".getBytes(StandardCharsets.US_ASCII);
    Blob b = store.put(new ByteArrayInputStream(abc));
    // SHA-256("abc"), FIPS 180-2 appendix B.1
    assertThat(b.sha256())
        .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assertThat(b.sizeBytes()).isEqualTo(3);
    assertThat(store.path(b.sha256())).isEqualTo(tmp.resolve("sha256/ba").resolve(b.sha256()));
    assertThat(store.put(new ByteArrayInputStream(abc))).isEqualTo(b);
    assertThat(store.read(b.sha256())).isEqualTo(abc);
    try (Stream<Path> s = Files.list(tmp.resolve("tmp"))) {
      assertThat(s).isEmpty();
    }
  }

  @Test
  void aFailedWriteLeavesNoBlob() throws IOException {
    FileBlobStore store = new FileBlobStore(tmp);
    InputStream failing =
        new InputStream() {
          int n;

          @Override
          public int read() throws IOException {
            if (++n > 1000) {
              throw new IOException("disk pulled");
            }
            return 7;
          }
        };
    assertThatThrownBy(() -> store.put(failing)).hasMessageContaining("disk pulled");
    try (Stream<Path> s = Files.walk(tmp)) {
      assertThat(s.filter(Files::isRegularFile)).isEmpty();
    }
  }

  @Test
  void refusesAChangedBlobAndCopiesNothing() throws IOException {
    FileBlobStore store = new FileBlobStore(tmp.resolve("store"));
    Blob b = store.put(new ByteArrayInputStream(new byte[] {1, 2, 3, 4}));
    Files.write(store.path(b.sha256()), new byte[] {1, 2, 3, 5});
    assertThatThrownBy(() -> store.read(b.sha256()))
        .isInstanceOf(CorruptBlobException.class)
        .hasMessageContaining(store.path(b.sha256()).toString())
        .hasMessageContaining("is corrupted");
    Path out = tmp.resolve("out/model.onnx");
    assertThatThrownBy(() -> store.copyTo(b.sha256(), out))
        .isInstanceOf(CorruptBlobException.class);
    try (Stream<Path> s = Files.list(out.getParent())) {
      assertThat(s).isEmpty();
    }
  }
}

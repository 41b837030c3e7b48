package io.quantguard.runtime.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.runtime.Tensor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Scheme 2: blocks by global index, so batch size and block-aligned parts do not change it. */
class DataFingerprintTest {
  private static final int N = 700;

  /** Samples [from, to) of a [n, 3] input whose row i is (i, 2i, 3i), as one batch. */
  private static Batch samples(long from, long to, float bump) {
    int n = (int) (to - from);
    float[] x = new float[3 * n];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < 3; k++) {
        x[3 * i + k] = (from + i) * (k + 1) + (from + i == 300 ? bump : 0);
      }
    }
    return new Batch(Map.of("x", Tensor.ofFloats(x, n, 3)), null, null, from);
  }

  private static DataFingerprint of(long from, long to, int batch, float bump) {
    DataFingerprint f = new DataFingerprint();
    for (long i = from; i < to; i += batch) {
      f.add(samples(i, Math.min(to, i + batch), bump));
    }
    return f;
  }

  @Test
  void partsOnBlockBoundariesMergedInAnyOrderGiveTheFingerprintOfOnePass() throws IOException {
    String whole = of(0, N, 32, 0).hex();
    assertThat(of(0, N, 7, 0).hex()).as("batch size").isEqualTo(whole);
    int b = DataFingerprint.BLOCK;
    List<DataFingerprint> parts =
        new ArrayList<>(List.of(of(0, b, 5, 0), of(b, 2L * b, 64, 0), of(2L * b, N, 1, 0)));
    Collections.reverse(parts);
    DataFingerprint merged = new DataFingerprint();
    for (DataFingerprint p : parts) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      p.writeTo(out); // as a worker ships it
      merged.merge(DataFingerprint.readFrom(new ByteArrayInputStream(out.toByteArray())));
    }
    assertThat(merged.samples()).isEqualTo(N);
    assertThat(merged.hex()).isEqualTo(whole);
    assertThat(of(0, N, 32, 0.5f).hex()).as("one value changed").isNotEqualTo(whole);
    assertThat(of(0, N - 1, 32, 0).hex()).as("one sample fewer").isNotEqualTo(whole);

    DataFingerprint head = of(0, 100, 32, 0);
    assertThatThrownBy(() -> head.merge(of(100, N, 32, 0)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("multiples of " + b);
  }
}

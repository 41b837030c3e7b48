package io.quantguard.runtime.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link DataSource#of}: batches made in memory, re-cut to the batch size asked for. */
class InMemoryDataTest {
  /** Samples 0..n-1 of a [n, 2] input whose rows are (i, -i), labels i % 3. */
  private static Batch rows(int first, int n) {
    float[] x = new float[2 * n];
    long[] y = new long[n];
    for (int i = 0; i < n; i++) {
      x[2 * i] = first + i;
      x[2 * i + 1] = -(first + i);
      y[i] = (first + i) % 3;
    }
    return new Batch(Map.of("x", Tensor.ofFloats(x, n, 2)), y, null, 0);
  }

  private static List<Batch> read(DataSource d, int batchSize) {
    List<Batch> out = new ArrayList<>();
    try (BatchStream s = d.open(batchSize)) {
      s.forEachRemaining(out::add);
    }
    return out;
  }

  @Test
  void joinsAndSplitsBatchesToTheSizeAskedForAndReadsAgain() {
    DataSource d = DataSource.of("three batches", List.of(rows(0, 3), rows(3, 1), rows(4, 6)));
    assertThat(d.name()).isEqualTo("three batches");
    assertThat(d.size()).hasValue(10);
    assertThat(d.hasLabels()).isTrue();
    for (int round = 0; round < 2; round++) {
      List<Batch> batches = read(d, 4);
      assertThat(batches).extracting(Batch::size).containsExactly(4, 4, 2);
      assertThat(batches).extracting(Batch::offset).containsExactly(0L, 4L, 8L);
      float[] all = new float[20];
      long[] labels = new long[10];
      for (Batch b : batches) {
        float[] x = b.inputs().get("x").floats();
        System.arraycopy(x, 0, all, (int) b.offset() * 2, x.length);
        System.arraycopy(b.labels(), 0, labels, (int) b.offset(), b.size());
      }
      for (int i = 0; i < 10; i++) {
        assertThat(all[2 * i]).isEqualTo(i);
        assertThat(all[2 * i + 1]).isEqualTo(-i);
        assertThat(labels[i]).isEqualTo(i % 3);
      }
    }
    assertThat(read(d, 1)).hasSize(10);
    assertThat(read(d, 100)).singleElement().extracting(Batch::size).isEqualTo(10);
  }

  @Test
  void namesTheSampleThatHoldsANaN() {
    Batch ok = rows(0, 3);
    float[] bad = {1, Float.NaN};
    DataSource d =
        DataSource.of(
            "samples",
            List.of(ok, new Batch(Map.of("x", Tensor.ofFloats(bad, 1, 2)), new long[1], null, 0)));
    assertThatThrownBy(() -> read(d, 2))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("samples")
        .hasMessageContaining("sample 3");
    assertThat(d.size()).hasValue(4);
  }
}

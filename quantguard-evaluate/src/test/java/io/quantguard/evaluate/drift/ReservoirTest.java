package io.quantguard.evaluate.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ReservoirTest {
  @Test
  void keepsEverythingUpToItsCapacityHoweverTheStreamIsSplit() {
    double[] values = IntStream.range(0, 500).mapToDouble(i -> (i * 37) % 101).toArray();
    Reservoir whole = new Reservoir(512, 1);
    Arrays.stream(values).forEach(whole::add);
    Reservoir a = new Reservoir(512, 1);
    Reservoir b = new Reservoir(512, 1);
    Arrays.stream(values, 0, 123).forEach(a::add);
    Arrays.stream(values, 123, 500).forEach(b::add);
    b.merge(a);
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    assertThat(whole.sorted()).containsExactly(sorted);
    assertThat(b.sorted()).containsExactly(sorted);
    assertThat(b.seen()).isEqualTo(500);
  }

  @Test
  void keepsAUniformSampleOfBoundedSizeBeyondIt() {
    Reservoir r = new Reservoir(2000, 42);
    Reservoir[] parts = {new Reservoir(2000, 42), new Reservoir(2000, 42), new Reservoir(2000, 42)};
    for (int i = 0; i < 300_000; i++) {
      r.add(i);
      parts[i % 3].add(i);
    }
    parts[0].merge(parts[1]);
    parts[0].merge(parts[2]);
    for (Reservoir s : new Reservoir[] {r, parts[0]}) {
      double[] kept = s.sorted();
      assertThat(kept).hasSize(2000);
      // A uniform sample of 0 … 299,999: mean 150,000 ± 3·86,603/√2000 ≈ ±5,809.
      assertThat(Arrays.stream(kept).average().orElseThrow()).isCloseTo(150_000, within(5_809.0));
      // and its deciles where they belong, within ±0.035 of the rank (3 standard errors).
      for (int d = 1; d < 10; d++) {
        assertThat(kept[d * 200] / 300_000).isCloseTo(d / 10.0, within(0.035));
      }
    }
    assertThat(parts[0].seen()).isEqualTo(300_000);
  }

  @Test
  void isDeterministicAndRestoresFromItsState() {
    Reservoir a = new Reservoir(100, 9);
    Reservoir b = new Reservoir(100, 9);
    for (int i = 0; i < 10_000; i++) {
      a.add(Math.sin(i));
      b.add(Math.sin(i));
    }
    assertThat(a.sorted()).containsExactly(b.sorted());
    Reservoir restored = Reservoir.restore(100, 9, a.seen(), a.values(), a.priorities());
    Reservoir more = new Reservoir(100, 9);
    for (int i = 0; i < 1000; i++) {
      more.add(Math.cos(i));
    }
    restored.merge(more);
    a.merge(more);
    assertThat(restored.sorted()).containsExactly(a.sorted());
    assertThat(restored.seen()).isEqualTo(11_000);
  }
}

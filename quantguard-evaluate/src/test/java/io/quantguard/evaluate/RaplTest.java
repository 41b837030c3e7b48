package io.quantguard.evaluate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RAPL counters as Linux lays them out under /sys/class/powercap, in a scratch directory. */
class RaplTest {
  @TempDir Path root;

  private void counter(String domain, long uj, long range) throws Exception {
    Path d = Files.createDirectories(root.resolve(domain));
    Files.writeString(d.resolve("energy_uj"), uj + "\n");
    Files.writeString(d.resolve("max_energy_range_uj"), range + "\n");
  }

  @Test
  void sumsPackagesIgnoresSubDomainsAndUnwrapsOverflow() throws Exception {
    counter("intel-rapl:0", 1_000_000, 10_000_000);
    counter("intel-rapl:1", 5_000_000, 10_000_000);
    counter("intel-rapl:0:0", 123, 10_000_000);
    Rapl rapl = Rapl.open(root).orElseThrow();
    assertThat(rapl.joules()).isZero();
    counter("intel-rapl:0", 3_500_000, 10_000_000);
    counter("intel-rapl:0:0", 9_999_999, 10_000_000);
    assertThat(rapl.joules()).isCloseTo(2.5, within(1e-9));
    counter("intel-rapl:1", 500_000, 10_000_000); // wrapped: +5.5 J
    assertThat(rapl.joules()).isCloseTo(8.0, within(1e-9));
  }

  @Test
  void absentCountersMeanAnEstimate() {
    assertThat(Rapl.open(root.resolve("missing"))).isEmpty();
    assertThat(Rapl.open(root)).isEmpty();
  }
}

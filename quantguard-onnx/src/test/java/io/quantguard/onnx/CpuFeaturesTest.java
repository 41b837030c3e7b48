package io.quantguard.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class CpuFeaturesTest {
  private static final Path CPUINFO = Path.of("/proc/cpuinfo");

  @Test
  void withoutAModelNameLineTheModelIsTheArchitectureButNoModelNameIsClaimed() {
    String arm = "processor\t: 0\nFeatures\t: fp asimd asimddp\nCPU implementer\t: 0x41\n";
    assertThat(CpuFeatures.parse(arm, 4).model()).isEqualTo(System.getProperty("os.arch"));
    assertThat(CpuFeatures.modelName(arm)).isNull();
    String x86 = "processor\t: 0\nmodel name\t: AMD EPYC 9R14\nflags\t\t: sse4_2 avx2\n";
    assertThat(CpuFeatures.modelName(x86)).isEqualTo("AMD EPYC 9R14");
    assertThat(CpuFeatures.parse(x86, 4).model()).isEqualTo("AMD EPYC 9R14");
  }

  @Test
  void theRunEnvironmentRecordsTheSameModelNameAsTheCpuReading() throws IOException {
    RunEnvironment env = RunEnvironment.current(null);
    assertThat(env.cpuModel()).isEqualTo(CpuFeatures.detectModelName());
    if (env.cpuModel() != null) {
      assertThat(CpuFeatures.detect().model()).isEqualTo(env.cpuModel());
    }
    assumeTrue(Files.isReadable(CPUINFO), "no /proc/cpuinfo on this OS");
    assertThat(env.cpuModel()).isEqualTo(CpuFeatures.modelName(Files.readString(CPUINFO)));
  }
}

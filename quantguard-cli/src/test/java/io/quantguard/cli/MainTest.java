package io.quantguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the command line does when the JVM itself fails, not the input. */
class MainTest {
  @Test
  void aHeapThatRunsOutIsAnErrorNamingTheSettingThatGivesMore(@TempDir Path tmp)
      throws IOException, InterruptedException {
    // all-MiniLM-L6-v2 is 90 MB: quantizing it cannot fit a 48 MB heap.
    Process p =
        new ProcessBuilder(
                List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx48m",
                    "-cp",
                    System.getProperty("java.class.path"),
                    Main.class.getName(),
                    "quantize",
                    "minilm",
                    "--mode",
                    "dynamic",
                    "-o",
                    tmp.resolve("q.onnx").toString()))
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();

    assertThat(p.exitValue()).as(err).isEqualTo(ExitCodes.INTERNAL);
    assertThat(err).contains("Java heap (").contains("QUANTGUARD_JAVA_OPTS=-Xmx");
    assertThat(tmp.resolve("q.onnx")).doesNotExist();
  }

  @Test
  void aHeapThatRanOutInAWorkerThreadIsRecognizedBehindItsWrapper() {
    assertThat(Main.outOfMemory(new ExecutionException(new OutOfMemoryError("Java heap space"))))
        .isTrue();
    assertThat(Main.outOfMemory(new IllegalStateException(new IOException("disk full")))).isFalse();
  }
}

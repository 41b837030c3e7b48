package io.quantguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end: {@code quantguard run quantguard.yaml} on the Fashion-MNIST CNN and the shipped
 * sample carries out every step and exits 0 on a pass; a project file with a misspelt key exits 3
 * naming the key, before any work.
 */
class RunCommandTest {
  @TempDir Path tmp;

  /** The CNN on the shipped sample under a 2-point accuracy policy, with {@code more} settings. */
  private Path cnnProject(String more) throws Exception {
    Path train = TestModels.fashionMnistSample("train-images-idx3-ubyte.gz");
    Path test = TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz");
    Path file = tmp.resolve("quantguard.yaml");
    Files.writeString(
        file,
        "name: cnn\nmodel: "
            + TestModels.fashionCnn()
            + "\ntask: classification\ndata:\n  calibration: idx:"
            + train
            + "?input=image&limit=200\n  test:\n    test: idx:"
            + test
            + "?input=image&limit=500\n"
            + "policy: {rules: {accuracy: {max_drop: 2%}}}\n"
            + "evaluation: {batch_size: 250, bootstrap: 50, probe_samples: 16}\n"
            + more);
    return file;
  }

  @Test
  void runsAProjectFileEndToEnd() throws Exception {
    Path file = cnnProject("search: {budget: 2}\n");
    Path out = tmp.resolve("out");
    Cli r = Cli.run("run", file.toString(), "--out", out.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("1/6  FP32 baseline").contains("6/6").contains("PASS  cnn@1");
    assertThat(out.resolve("summary.html")).exists();
    assertThat(out.resolve("registry")).isDirectory();

    Cli again = Cli.run("run", file.toString(), "--out", out.toString());
    assertThat(again.exitCode()).isZero();
    assertThat(again.out().split("\\[reused]", -1)).hasSize(7); // all six steps reused
  }

  @Test
  void trainsQuantizationAwareWhenTheProjectNamesQat() throws Exception {
    Path file =
        cnnProject(
            "approach: qat\nqat: {data: 'idx:"
                + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz")
                + "?input=image', max_steps: 20, lr: 0.0001}\n");
    Path out = tmp.resolve("out");
    Cli r = Cli.run("run", file.toString(), "--out", out.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("static (quantization-aware training): named by the project file")
        .contains("static int8 model after quantization-aware training: 20 steps (labels)")
        .contains("PASS  cnn@1");
    OnnxModel candidate = ModelIO.load(out.resolve("steps/tune/model.onnx"));
    assertThat(candidate.metadata().get("quantguard.qat")).contains("\"steps\":20");
  }

  @Test
  void aMisspeltKeyIsNamed() throws Exception {
    Path file = tmp.resolve("quantguard.yaml");
    Files.writeString(file, "name: m\nmodle: m.onnx\n");
    Cli r = Cli.run("run", file.toString(), "--out", tmp.resolve("out").toString());
    assertThat(r.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(r.err()).contains("modle").contains("is not a project setting");
    assertThat(tmp.resolve("out")).doesNotExist();
  }
}

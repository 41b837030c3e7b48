package io.quantguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TuneCommandTest {
  @TempDir Path tmp;

  private String[] args(Path policy, Path out, String budget, String... extra) throws Exception {
    Path recipe = tmp.resolve("w4a8.yaml");
    Files.writeString(
        recipe,
        "weights: {type: int4, symmetric: true, method: minmax}\ncalibration: {samples: 300}\n");
    List<String> a =
        new ArrayList<>(
            List.of(
                "tune",
                "--model",
                TestModels.fashionCnn().toString(),
                "--recipe",
                recipe.toString(),
                "--calibration",
                "idx:"
                    + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz")
                    + "?input=image",
                "--data",
                "idx:"
                    + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz")
                    + "?input=image&limit=2000",
                "--task",
                "classification",
                "--policy",
                policy.toString(),
                "--out",
                out.toString(),
                "--budget",
                budget,
                "--bootstrap",
                "50"));
    a.addAll(List.of(extra));
    return a.toArray(String[]::new);
  }

  @Test
  void tunesTheCnnToAPolicyExitsOneWhenTheBudgetRunsOutAndResumes() throws Exception {
    Path policy = tmp.resolve("policy.yaml");
    Files.writeString(policy, "rules:\n  accuracy: {max_drop: 0.3%}\n  size: {max_ratio: 0.2}\n");
    Path out = tmp.resolve("tuned");

    Cli cut = Cli.run(args(policy, out, "1"));
    assertThat(cut.exitCode()).as(cut.err()).isEqualTo(1);
    assertThat(cut.out()).contains("DOES NOT PASS").contains("gap: accuracy max_drop");
    assertThat(out.resolve("tuning-state.json")).exists();

    Cli r = Cli.run(args(policy, out, "24", "--json"));
    assertThat(r.exitCode()).as(r.err()).isZero();
    JsonNode doc = new ObjectMapper().readTree(r.out());
    assertThat(doc.get("passed").asBoolean()).isTrue();
    assertThat(doc.get("trials").get(0).get("phase").asText()).isEqualTo("start");
    assertThat(doc.get("best").get("higherPrecision").asInt()).isBetween(0, 3);
    for (String f :
        List.of("recipe.yaml", "model.onnx", "tuning.md", "tuning.html", "report/report.json")) {
      assertThat(out.resolve(f)).exists();
    }
  }

  /**
   * The command carries the training module, so quantization-aware training is a repair there:
   * tried once before fallback, measured like any trial and printed with its effect.
   */
  @Test
  void triesQuantizationAwareTrainingBeforeFallback() throws Exception {
    Path policy = tmp.resolve("policy.yaml");
    Files.writeString(policy, "rules:\n  accuracy: {max_drop: 0.1%}\n");
    Path out = tmp.resolve("qat");
    Cli r =
        Cli.run(
            args(
                policy,
                out,
                "3",
                "--repairs",
                "qat",
                "--qat-steps",
                "30",
                "--rank-samples",
                "32",
                "--json"));
    assertThat(r.exitCode()).as(r.err()).isIn(0, 1);
    JsonNode doc = new ObjectMapper().readTree(r.out());
    JsonNode qat = doc.get("training");
    assertThat(qat.get("steps").asLong()).isEqualTo(30);
    assertThat(qat.get("before").isNumber()).isTrue();
    assertThat(qat.get("after").isNumber()).isTrue();
    assertThat(doc.get("trials").get(qat.get("trial").asInt() - 1).get("phase").asText())
        .isEqualTo("qat");
    assertThat(out.resolve("qat/trained.onnx")).exists();
    assertThat(Files.readString(out.resolve("tuning.md")))
        .contains("## Quantization-aware training");
    Cli bad = Cli.run(args(policy, tmp.resolve("y"), "3", "--repairs", "qat", "--qat-steps", "0"));
    assertThat(bad.exitCode()).isEqualTo(3);
    assertThat(bad.err()).contains("--qat-steps 0");
  }

  @Test
  void refusesBadSettingsWithExitThree() throws Exception {
    Path policy = tmp.resolve("policy.yaml");
    Files.writeString(policy, "rules:\n  accuracy: {max_drop: 0.3%}\n");
    Path out = tmp.resolve("x");
    Cli budget = Cli.run(args(policy, out, "0"));
    assertThat(budget.exitCode()).isEqualTo(3);
    assertThat(budget.err()).contains("--budget 0");
    Cli repairs = Cli.run(args(policy, out, "4", "--repairs", "magic"));
    assertThat(repairs.exitCode()).isEqualTo(3);
    assertThat(repairs.err()).contains("--repairs magic").contains("calibrator");
    assertThat(out).doesNotExist();
  }
}

package io.quantguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SensitivityCommandTest {
  @TempDir Path tmp;

  @Test
  void ranksTheCnnAndWritesTheReports() throws Exception {
    String calibration =
        "idx:"
            + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz")
            + "?input=image&limit=300";
    String data =
        "idx:"
            + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz")
            + "?input=image&limit=128";
    Path report = tmp.resolve("sensitivity");
    Cli r =
        Cli.run(
            "sensitivity",
            TestModels.fashionCnn().toString(),
            "--calibration",
            calibration,
            "--data",
            data,
            "--report",
            report.toString(),
            "--json");
    assertThat(r.exitCode()).as(r.err()).isZero();
    JsonNode doc = new ObjectMapper().readTree(r.out());
    assertThat(doc.get("nodes")).hasSize(4);
    assertThat(doc.get("nodes").get(0).get("outputSqnrDb").asDouble())
        .isLessThanOrEqualTo(doc.get("nodes").get(3).get("outputSqnrDb").asDouble());
    assertThat(report.resolve("report.json")).exists();
    assertThat(Files.readString(report.resolve("report.html")))
        .contains("echarts")
        .contains("/net/c1/Conv");
    Cli text =
        Cli.run(
            "sensitivity",
            TestModels.fashionCnn().toString(),
            "--calibration",
            calibration,
            "--data",
            data,
            "--budget",
            "2",
            "--task",
            "classification",
            "--task-nodes",
            "1");
    assertThat(text.exitCode()).as(text.err()).isZero();
    assertThat(text.out()).contains("accuracy: FP32").contains("only it in float");
    assertThat(text.out()).contains("most sensitive first");
    assertThat(
            Cli.run(
                    "sensitivity",
                    TestModels.fashionCnn().toString(),
                    "--calibration",
                    calibration,
                    "--data",
                    data,
                    "--budget",
                    "0")
                .exitCode())
        .isEqualTo(3);
  }
}

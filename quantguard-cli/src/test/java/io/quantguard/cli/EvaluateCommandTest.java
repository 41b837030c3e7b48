package io.quantguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvaluateCommandTest {
  @TempDir Path tmp;

  @Test
  void evaluatesTheCnnAndWritesAllThreeReports() throws Exception {
    String cnn = TestModels.fashionCnn().toString();
    Path images = TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz");
    Path train = TestModels.fashionMnistSample("train-images-idx3-ubyte.gz");
    Path dir = tmp.resolve("report");
    Cli r =
        Cli.run(
            "evaluate",
            "--baseline",
            cnn,
            "--candidate",
            cnn,
            "--task",
            "classification?classes=T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot",
            "--data",
            "test=idx:" + images + "?input=image&limit=1000",
            "--data",
            "more=idx:" + images + "?input=image&offset=1000&limit=500",
            "--calibration",
            "idx:" + train + "?input=image&limit=200",
            "--slice-by",
            "label",
            "--batch-size",
            "100",
            "--bootstrap",
            "200",
            "--report",
            dir.toString(),
            "--json");
    assertThat(r.exitCode()).as(r.err()).isZero();
    JsonNode json = new ObjectMapper().readTree(r.out());
    assertThat(json.get("schema").asText()).isEqualTo("quantguard.evaluate/1");
    assertThat(json.has("calibrationCoverage")).as("only with --calibration-ranges").isFalse();
    JsonNode models = json.get("models");
    assertThat(models.get(0).get("name").asText()).isEqualTo("fashion_cnn_fp32.onnx");
    assertThat(models.get(1).get("name").asText()).isEqualTo("fashion_cnn_fp32.onnx#2");
    JsonNode all = models.get(1).get("slices").get(0);
    assertThat(all.get("samples").asLong()).isEqualTo(1500);
    assertThat(all.get("metrics").get(0).get("name").asText()).isEqualTo("accuracy");
    assertThat(all.get("metrics").get(0).get("delta").asDouble()).isZero();
    assertThat(models.get(1).get("slices").findValuesAsText("slice"))
        .contains("data=test", "data=more", "label=Coat");
    assertThat(json.get("hygiene").get("calibrationSamples").asLong()).isEqualTo(200);
    assertThat(json.get("data").get(1).get("samples").asLong()).isEqualTo(500);
    for (String f : new String[] {"report.json", "report.md", "report.html"}) {
      assertThat(dir.resolve(f)).isRegularFile();
    }
    assertThat(Files.readString(dir.resolve("report.md"))).contains("### Verdict");
  }

  @Test
  void printsASummaryForPeople() {
    String cnn = TestModels.fashionCnn().toString();
    Path images = TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz");
    Cli r =
        Cli.run(
            "evaluate",
            "--baseline",
            cnn,
            "--candidate",
            cnn,
            "--task",
            "classification",
            "--data",
            "idx:" + images + "?input=image&limit=300",
            "--bootstrap",
            "100");
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("QuantGuard evaluation: classification")
        .contains("no significant difference")
        .contains("| accuracy ↑ |");
  }

  @Test
  void comparesMiniLmWithItsQuantizedPeerByKnownNames() throws Exception {
    Cli r =
        Cli.run(
            "evaluate",
            "--baseline",
            "minilm",
            "--candidate",
            "minilm-q",
            "--task",
            "embedding",
            "--data",
            "text:europarl?tokenizer=minilm-tokenizer&column=3&max_length=32&limit=16",
            "--bootstrap",
            "100",
            "--json");
    assertThat(r.exitCode()).as(r.err()).isZero();
    JsonNode q = new ObjectMapper().readTree(r.out()).get("models").get(1);
    assertThat(q.get("name").asText()).isEqualTo("minilm-q");
    double cosine = q.get("slices").get(0).get("metrics").get(0).get("value").asDouble();
    assertThat(cosine).isBetween(0.9, 0.99999);
  }

  @Test
  void badInputExitsThreeAndBadUsageTwo() {
    String cnn = TestModels.fashionCnn().toString();
    Path images = TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz");
    String data = "idx:" + images + "?input=image&limit=10";
    Cli unknownTask =
        Cli.run(
            "evaluate",
            "--baseline",
            cnn,
            "--candidate",
            cnn,
            "--task",
            "segmentation",
            "--data",
            data);
    assertThat(unknownTask.exitCode()).isEqualTo(3);
    assertThat(unknownTask.err()).contains("segmentation").contains("not a known task");
    Cli retrieval =
        Cli.run(
            "evaluate",
            "--baseline",
            cnn,
            "--candidate",
            cnn,
            "--task",
            "retrieval",
            "--data",
            data);
    assertThat(retrieval.exitCode()).isEqualTo(3);
    assertThat(retrieval.err()).contains("queries").contains("corpus");
    Cli missing =
        Cli.run("evaluate", "--baseline", cnn, "--task", "classification", "--data", data);
    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.err()).contains("--candidate");
    Cli badOutput =
        Cli.run(
            "evaluate",
            "--baseline",
            cnn,
            "--candidate",
            cnn,
            "--task",
            "classification?output=probs",
            "--data",
            data);
    assertThat(badOutput.exitCode()).isEqualTo(3);
    assertThat(badOutput.err()).contains("has no output 'probs'");
  }

  @Test
  void reportsHowMuchOfTheDataLeavesTheCalibratedRanges() throws Exception {
    String cnn = TestModels.fashionCnn().toString();
    Path train = TestModels.fashionMnistSample("train-images-idx3-ubyte.gz");
    Path images = TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz");
    String int8 = tmp.resolve("cnn-int8.onnx").toString();
    Cli q =
        Cli.run(
            "quantize",
            cnn,
            "-o",
            int8,
            "--calibration",
            "idx:" + train + "?input=image",
            "--samples",
            "500");
    assertThat(q.exitCode()).as(q.err()).isZero();
    Path dir = tmp.resolve("coverage");
    String[] args = {
      "evaluate",
      "--baseline",
      cnn,
      "--candidate",
      int8,
      "--task",
      "classification",
      "--data",
      "test=idx:" + images + "?input=image&limit=300",
      "--data",
      // Raw 0-255 pixels: a forgotten /255 in the serving path.
      "unscaled=idx:" + images + "?input=image&offset=300&limit=100&scale=1",
      "--calibration-ranges",
      int8,
      "--bootstrap",
      "0",
      "--report",
      dir.toString()
    };
    Cli r = Cli.run(args);
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("Calibration coverage: ");
    JsonNode coverage =
        new ObjectMapper().readTree(dir.resolve("report.json").toFile()).get("calibrationCoverage");
    assertThat(coverage.get("tensors").asInt()).isEqualTo(7);
    assertThat(coverage.get("slices").findValuesAsText("slice"))
        .startsWith("all", "data=test", "data=unscaled");
    assertThat(coverage.get("slices").get(1).get("rate").asDouble()).isLessThan(1e-5);
    assertThat(coverage.get("slices").get(2).get("rate").asDouble()).isGreaterThan(0.15);
    assertThat(coverage.get("slices").get(0).get("worstSamples").get(0).get("sample").asText())
        .startsWith("unscaled#");
    assertThat(Files.readString(dir.resolve("report.md")))
        .contains("### Calibration coverage")
        .contains("### Samples that clip most");
    args[args.length - 5] = tmp.resolve("missing.onnx").toString();
    Cli missing = Cli.run(args);
    assertThat(missing.exitCode()).isEqualTo(3);
    assertThat(missing.err()).contains("missing.onnx");
  }

  @Test
  void namesModelsByTheirFile() {
    assertThat(EvaluateCommand.displayName("minilm-q")).isEqualTo("minilm-q");
    assertThat(EvaluateCommand.displayName("/x/y/model.onnx")).isEqualTo("model.onnx");
  }
}

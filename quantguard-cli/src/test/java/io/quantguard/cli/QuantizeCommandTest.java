package io.quantguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.ModelSummary;
import io.quantguard.onnx.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuantizeCommandTest {
  @TempDir Path tmp;

  private static String calibration() {
    return "idx:" + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz") + "?input=image";
  }

  @Test
  void quantizesTheCnnEndToEnd() throws Exception {
    Path out = tmp.resolve("cnn-int8.onnx");
    Path recipe = tmp.resolve("effective.yaml");
    Cli r =
        Cli.run(
            "quantize",
            TestModels.fashionCnn().toString(),
            "-o",
            out.toString(),
            "--calibration",
            calibration(),
            "--samples",
            "200",
            "--method",
            "percentile",
            "--save-recipe",
            recipe.toString(),
            "--json");
    assertThat(r.exitCode()).as(r.err()).isZero();
    JsonNode doc = new ObjectMapper().readTree(r.out());
    assertThat(doc.get("report").get("calibrationSamples").asInt()).isEqualTo(200);
    assertThat(doc.get("outputBytes").asLong()).isLessThan(doc.get("inputBytes").asLong() / 3);
    assertThat(ModelSummary.of(ModelIO.load(out)).quantization().quantized()).isTrue();
    assertThat(Files.readString(recipe)).contains("method: \"percentile\"");
    Cli text =
        Cli.run(
            "quantize",
            TestModels.fashionCnn().toString(),
            "-o",
            out.toString(),
            "--calibration",
            calibration(),
            "--samples",
            "64");
    assertThat(text.out()).contains("Quantized").contains("Conv×2").contains("Size");
  }

  @Test
  void badInputExitsThreeAndWritesNothing() throws Exception {
    Path out = tmp.resolve("never.onnx");
    Path recipe = Files.writeString(tmp.resolve("bad.yaml"), "exclude: [no_such_node]\n");
    Cli r =
        Cli.run(
            "quantize",
            TestModels.fashionCnn().toString(),
            "-o",
            out.toString(),
            "--calibration",
            calibration(),
            "--recipe",
            recipe.toString());
    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(r.err()).contains("no_such_node");
    assertThat(out).doesNotExist();
    assertThat(tmp).isDirectoryNotContaining(p -> p.getFileName().toString().contains("never"));
    Cli usage =
        Cli.run("quantize", TestModels.fashionCnn().toString(), "--calibration", calibration());
    assertThat(usage.exitCode()).isEqualTo(2);
  }

  @Test
  void dynamicModeNeedsNoCalibrationAndStaticModeDoes() throws Exception {
    Path out = tmp.resolve("minilm-dynamic.onnx");
    Cli r = Cli.run("quantize", "minilm", "-o", out.toString(), "--mode", "dynamic");
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("dynamic").contains("MatMul×36");
    assertThat(ModelSummary.of(ModelIO.load(out)).quantization().scheme()).contains("dynamic int8");
    Cli missing =
        Cli.run(
            "quantize", TestModels.fashionCnn().toString(), "-o", tmp.resolve("x.onnx").toString());
    assertThat(missing.exitCode()).isEqualTo(3);
    assertThat(missing.err()).contains("--calibration");
  }
}

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

  /**
   * Statistics written elsewhere ({@code Calibration.writeTo}, what quantguard-spark's calibrate
   * writes) quantize to the bytes that calibrating here gives, and are refused for another model.
   */
  @Test
  void calibrationStatsFromAFileGiveTheBytesOfCalibratingHere() throws Exception {
    Path stats = tmp.resolve("cnn.qgcal");
    io.quantguard.quantize.Recipe recipe =
        io.quantguard.quantize.RecipeIO.parse("calibration: {samples: 256}", "r");
    io.quantguard.quantize.Calibration c =
        io.quantguard.quantize.Quantizer.calibrate(
            ModelIO.load(TestModels.fashionCnn()),
            recipe,
            io.quantguard.runtime.data.DataSpec.parse(calibration()),
            io.quantguard.quantize.Quantizer.Options.defaults());
    try (var out = Files.newOutputStream(stats)) {
      c.writeTo(out);
    }
    Path here = tmp.resolve("here.onnx");
    Path there = tmp.resolve("there.onnx");
    Cli a =
        Cli.run(
            "quantize",
            TestModels.fashionCnn().toString(),
            "-o",
            here.toString(),
            "--calibration",
            calibration(),
            "--samples",
            "256");
    assertThat(a.exitCode()).as(a.err()).isZero();
    Cli b =
        Cli.run(
            "quantize",
            TestModels.fashionCnn().toString(),
            "-o",
            there.toString(),
            "--calibration-stats",
            stats.toString(),
            "--samples",
            "256");
    assertThat(b.exitCode()).as(b.err()).isZero();
    assertThat(Files.readAllBytes(there)).isEqualTo(Files.readAllBytes(here));
    Cli other =
        Cli.run(
            "quantize",
            here.toString(),
            "-o",
            tmp.resolve("x.onnx").toString(),
            "--calibration-stats",
            stats.toString());
    assertThat(other.exitCode()).isEqualTo(3);
    assertThat(other.err()).contains("another model");
  }

  /**
   * {@code --exclude} over a recipe with {@code smooth} used to drop the smoothing (the flags
   * rebuilt the recipe through a constructor from before {@code smooth} existed): the flag must
   * give the recipe the user would have written with the exclusion in the file.
   */
  @Test
  void excludeFlagKeepsTheRecipesSmoothing() throws Exception {
    String recipe = "mode: static\nsmooth: 0.5\ncalibration: {samples: 64, batch_size: 32}\n";
    Path file = Files.writeString(tmp.resolve("smooth.yaml"), recipe);
    Path written =
        Files.writeString(tmp.resolve("written.yaml"), recipe + "exclude: [/net/f2/Gemm]\n");
    Path saved = tmp.resolve("saved.yaml");
    Cli flagged =
        Cli.run(
            "quantize",
            TestModels.fashionCnn().toString(),
            "-o",
            tmp.resolve("flagged.onnx").toString(),
            "--calibration",
            calibration(),
            "--recipe",
            file.toString(),
            "--exclude",
            "/net/f2/Gemm",
            "--save-recipe",
            saved.toString(),
            "--json");
    assertThat(flagged.exitCode()).as(flagged.err()).isZero();
    assertThat(Files.readString(saved)).contains("smooth: 0.5").contains("- \"/net/f2/Gemm\"");
    JsonNode report = new ObjectMapper().readTree(flagged.out()).get("report");
    assertThat(report.get("notes").toString())
        .contains("smoothed 1 MatMul/Gemm input(s) (SmoothQuant)");
    Cli inFile =
        Cli.run(
            "quantize",
            TestModels.fashionCnn().toString(),
            "-o",
            tmp.resolve("in-file.onnx").toString(),
            "--calibration",
            calibration(),
            "--recipe",
            written.toString(),
            "--json");
    assertThat(inFile.exitCode()).as(inFile.err()).isZero();
    assertThat(report.get("recipeSha256").asText())
        .isEqualTo(
            new ObjectMapper().readTree(inFile.out()).get("report").get("recipeSha256").asText());
    assertThat(Files.readAllBytes(tmp.resolve("flagged.onnx")))
        .isEqualTo(Files.readAllBytes(tmp.resolve("in-file.onnx")));
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

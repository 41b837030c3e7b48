package io.quantguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InspectCommandTest {
  @TempDir Path tmp;

  @Test
  void describesTheCnn() {
    Cli r = Cli.run("inspect", TestModels.fashionCnn().toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("image  float[batch, 1, 28, 28]")
        .contains("Conv×2")
        .contains("Quantized   no");
  }

  @Test
  void tellsFp32MiniLmFromItsDynamicallyQuantizedPeer() throws Exception {
    ObjectMapper json = new ObjectMapper();
    Cli fp32 = Cli.run("inspect", "--json", TestModels.miniLm().toString());
    Cli q = Cli.run("inspect", "--json", TestModels.miniLmQuantized().toString());
    assertThat(fp32.exitCode()).as(fp32.err()).isZero();
    assertThat(q.exitCode()).as(q.err()).isZero();
    JsonNode a = json.readTree(fp32.out()).get("summary");
    JsonNode b = json.readTree(q.out()).get("summary");
    assertThat(a.get("quantization").get("quantized").asBoolean()).isFalse();
    assertThat(b.get("quantization").get("quantized").asBoolean()).isTrue();
    assertThat(b.get("quantization").get("scheme").asText()).contains("dynamic int8");
    assertThat(b.get("quantization").get("integerOps").get("MatMulInteger").asInt()).isEqualTo(36);
    assertThat(a.get("parametersByType").get("float").get("elements").asLong())
        .isGreaterThan(22_000_000);
    assertThat(b.get("parametersByType").get("int8").get("elements").asLong())
        .isGreaterThan(10_000_000);
  }

  @Test
  void resolvesKnownNamesFromTheLocalMavenRepository() {
    Cli r = Cli.run("inspect", "minilm-q");
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("dynamic int8");
  }

  @Test
  void listsNodeByNodeWhatAModeQuantizesAndWhatItCannot() throws Exception {
    Cli text = Cli.run("inspect", TestModels.fashionCnn().toString(), "--mode", "dynamic");
    assertThat(text.exitCode()).as(text.err()).isZero();
    assertThat(text.out())
        .contains("Plan        dynamic Gemm×2; 2 kept in float")
        .contains("(Gemm): dynamic, MatMulIntegerToFloat")
        .contains("(Conv): dynamic quantization of convolutions has no fast kernel");
    Cli json = Cli.run("inspect", "--json", TestModels.fashionCnn().toString(), "--mode", "static");
    assertThat(json.exitCode()).as(json.err()).isZero();
    JsonNode plan = new ObjectMapper().readTree(json.out()).get("plan");
    assertThat(plan.get("quantized")).hasSize(4);
    assertThat(plan.get("quantized").get(0).get("form").asText()).isEqualTo("QDQ");
    assertThat(plan.get("notes").toString()).contains("need calibration data");
    Cli bad = Cli.run("inspect", TestModels.fashionCnn().toString(), "--mode", "int3");
    assertThat(bad.exitCode()).isNotZero();
    assertThat(bad.err()).contains("int3");
  }

  @Test
  void exitsThreeOnABrokenModelAndTwoOnBadUsage() throws Exception {
    Path junk = Files.write(tmp.resolve("junk.onnx"), new byte[] {1, 2, 3, 4, 5});
    Cli bad = Cli.run("inspect", junk.toString());
    assertThat(bad.exitCode()).isEqualTo(3);
    assertThat(bad.err()).contains("junk.onnx").contains("not an ONNX model");
    Cli usage = Cli.run("inspect");
    assertThat(usage.exitCode()).isEqualTo(2);
    assertThat(Cli.run("inspect", tmp.resolve("missing.onnx").toString()).exitCode()).isEqualTo(3);
  }
}

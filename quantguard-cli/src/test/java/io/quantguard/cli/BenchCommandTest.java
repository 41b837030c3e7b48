package io.quantguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.TestModels;
import org.junit.jupiter.api.Test;

class BenchCommandTest {
  private static String images(int limit) {
    return "idx:"
        + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz")
        + "?input=image&limit="
        + limit;
  }

  @Test
  void benchesTheCnnAgainstItselfAsJson() throws Exception {
    String cnn = TestModels.fashionCnn().toString();
    Cli r =
        Cli.run(
            "bench",
            cnn,
            cnn,
            "--data",
            images(16),
            "--batch",
            "1,8",
            "--trials",
            "3",
            "--warmup",
            "1",
            "--threads",
            "1",
            "--json");
    assertThat(r.exitCode()).as(r.err()).isZero();
    JsonNode doc = new ObjectMapper().readTree(r.out());
    assertThat(doc.at("/environment/onnxRuntime").asText()).startsWith("1.");
    assertThat(doc.at("/environment/cpu/flags").isArray()).isTrue();
    assertThat(doc.at("/environment/session/intraOpThreads").asInt()).isEqualTo(1);
    assertThat(doc.at("/environment/session/optimization").asText()).isEqualTo("ALL");
    assertThat(doc.at("/settings/batchSizes").toString()).isEqualTo("[1,8]");
    assertThat(doc.get("models")).hasSize(2);
    JsonNode b8 = doc.at("/models/1/batches/1");
    assertThat(b8.get("batchSize").asInt()).isEqualTo(8);
    assertThat(b8.get("trials").asInt()).isEqualTo(3);
    assertThat(b8.at("/latency/p50Ms").asDouble())
        .isPositive()
        .isLessThanOrEqualTo(b8.at("/latency/p99Ms").asDouble());
    JsonNode ratio = doc.at("/comparisons/0/batches/0/timeRatio");
    assertThat(ratio.get("rounds").asInt()).isEqualTo(3);
    assertThat(ratio.get("low").asDouble()).isLessThanOrEqualTo(ratio.get("high").asDouble());
    assertThat(doc.at("/comparisons/0/sizeRatio").asDouble()).isEqualTo(1.0);
    assertThat(r.err()).isEmpty(); // no progress bar when nobody watches a terminal
  }

  @Test
  void printsATableWithInstructionSetsAndRuntime() {
    String cnn = TestModels.fashionCnn().toString();
    Cli r =
        Cli.run(
            "bench", cnn, "--data", images(8), "--batch", "8", "--trials", "2", "--warmup", "0");
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("ISA ")
        .contains("ONNX Runtime 1.")
        .contains("optimization=all")
        .contains("batch 8 ")
        .contains("p95 ms")
        .contains("samples/s");
  }

  @Test
  void profilePrintsTimePerOperatorTypeAndNodeForEachModel() {
    String cnn = TestModels.fashionCnn().toString();
    Cli r =
        Cli.run(
            "bench",
            cnn,
            "--data",
            images(8),
            "--batch",
            "8",
            "--trials",
            "2",
            "--warmup",
            "0",
            "--profile");
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("Operator profile, batch 8")
        .contains("Conv (float)")
        .contains("float / integer / convert / other")
        .contains("100 / 0 / 0 / 0 %")
        .contains("slowest nodes of #1");
  }

  @Test
  void resolvesKnownModelNamesAndTokenizedText() throws Exception {
    Cli r =
        Cli.run(
            "bench",
            "minilm-q",
            "--data",
            "text:europarl?tokenizer=minilm-tokenizer&column=3&max_length=32&limit=4",
            "--batch",
            "2",
            "--trials",
            "2",
            "--warmup",
            "1",
            "--json");
    assertThat(r.exitCode()).as(r.err()).isZero();
    JsonNode m = new ObjectMapper().readTree(r.out()).at("/models/0");
    assertThat(m.get("label").asText()).isEqualTo("minilm-q");
    assertThat(m.get("quantization").asText()).contains("dynamic int8");
    assertThat(m.get("sizeOnDisk").asLong()).isGreaterThan(20_000_000);
  }

  @Test
  void badInputExitsThreeAndBadUsageTwo() {
    String cnn = TestModels.fashionCnn().toString();
    Cli batch = Cli.run("bench", cnn, "--data", images(8), "--batch", "1,zero");
    assertThat(batch.exitCode()).isEqualTo(3);
    assertThat(batch.err()).contains("--batch").contains("not a whole number");
    Cli small = Cli.run("bench", cnn, "--data", images(4), "--batch", "8");
    assertThat(small.exitCode()).isEqualTo(3);
    assertThat(small.err()).contains("not enough for one batch of 8");
    Cli level = Cli.run("bench", cnn, "--data", images(4), "--optimization", "fast");
    assertThat(level.exitCode()).isEqualTo(3);
    assertThat(level.err()).contains("--optimization fast");
    assertThat(Cli.run("bench", "missing.onnx", "--data", images(4)).exitCode()).isEqualTo(3);
    assertThat(Cli.run("bench", cnn).exitCode()).isEqualTo(2); // no --data
    assertThat(
            Cli.run("bench", cnn, "--data", images(4), "--trials", "3", "--duration", "2")
                .exitCode())
        .isEqualTo(2);
  }
}

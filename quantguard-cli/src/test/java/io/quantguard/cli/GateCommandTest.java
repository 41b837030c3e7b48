package io.quantguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.TestModels;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * End to end: {@code quantguard evaluate} writes report.json for the Fashion-MNIST CNN against
 * itself and against a copy with noisy fully connected weights (a few points of accuracy lost), and
 * {@code quantguard gate} judges it from the file alone: the good candidate passes, the degraded
 * one fails, and bad input exits 3 without writing anything.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GateCommandTest {
  static final String GOOD = "fashion_cnn_fp32.onnx#2";
  static final String BAD = "cnn-noisy.onnx";
  static final String POLICY =
      """
      name: release
      rules:
        accuracy: {max_drop: 0.5%}
        macro_f1: {max_drop_relative: 1%, per_slice: true}
        flip_rate: {max: 2%}
        size: {max_ratio: 1}
      """;

  private Path tmp;
  private Path reportDir;
  private Path policy;
  private Path noisy;
  private String data;

  @BeforeAll
  void evaluate(@TempDir Path dir) throws Exception {
    tmp = dir;
    Path cnn = TestModels.fashionCnn();
    noisy = noisyCopy(cnn, tmp.resolve(BAD));
    data = "idx:" + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz") + "?input=image";
    reportDir = tmp.resolve("eval");
    Cli r =
        Cli.run(
            "evaluate",
            "--baseline",
            cnn.toString(),
            "--candidate",
            cnn.toString(),
            "--candidate",
            noisy.toString(),
            "--task",
            "classification",
            "--data",
            data + "&limit=2000",
            "--slice-by",
            "label",
            "--batch-size",
            "100",
            "--bootstrap",
            "200",
            "--report",
            reportDir.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    policy = Files.writeString(tmp.resolve("release.yaml"), POLICY);
  }

  @Test
  void helpOfGateAuditAndRegistryFormatsWithoutPicocliWarnings() {
    // picocli formats option descriptions with String.format and, on a broken conversion such as
    // a lone "0.5%}", prints a WARN line on System.err and shows the text raw.
    PrintStream saved = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    Cli gate;
    try {
      gate = Cli.run("gate", "--help");
      for (String[] args :
          new String[][] {
            {"audit", "--help"},
            {"registry", "--help"},
            {"registry", "register", "--help"},
            {"registry", "promote", "--help"},
            {"registry", "rollback", "--help"},
            {"registry", "reproduce", "--help"},
            {"registry", "lineage", "--help"},
            {"registry", "log", "--help"}
          }) {
        assertThat(Cli.run(args).exitCode()).as(String.join(" ", args)).isZero();
      }
    } finally {
      System.setErr(saved);
    }
    assertThat(gate.exitCode()).isZero();
    assertThat(gate.out()).contains("{accuracy: {max_drop: 0.5%},").doesNotContain("%%");
    assertThat(captured.toString(StandardCharsets.UTF_8)).doesNotContain("WARN");
  }

  @Test
  void theGoodCandidatePasses() {
    Cli r =
        Cli.run(
            "gate",
            "--policy",
            policy.toString(),
            "--report",
            reportDir.resolve("report.json").toString(),
            "--candidate",
            GOOD);
    assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
    assertThat(r.out())
        .startsWith("Policy release: PASSED")
        .contains(GOOD + ": passed (14 checks, 0 failed, 0 skipped)")
        .contains("accuracy max_drop 0.5%")
        .doesNotContain(BAD);
  }

  @Test
  void theDegradedCandidateFailsWithJUnitXmlAndMarkdown() throws Exception {
    Path junit = tmp.resolve("ci/junit.xml");
    Path md = tmp.resolve("ci/gate.md");
    Cli r =
        Cli.run(
            "gate",
            "--policy",
            policy.toString(),
            "--report",
            reportDir.toString(),
            "--candidate",
            BAD,
            "--junit",
            junit.toString(),
            "--markdown",
            md.toString());
    assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(1);
    assertThat(r.out()).contains("Policy release: FAILED").contains(BAD + ": FAILED");

    Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(junit.toFile());
    assertThat(doc.getElementsByTagName("testsuite").getLength()).isEqualTo(1);
    Element suite = (Element) doc.getElementsByTagName("testsuite").item(0);
    assertThat(suite.getAttribute("name")).isEqualTo(BAD);
    // accuracy, macro_f1 on all data and on each of the 10 label slices, flip_rate, size
    assertThat(doc.getElementsByTagName("testcase").getLength()).isEqualTo(14);
    int failures = doc.getElementsByTagName("failure").getLength();
    assertThat(failures)
        .as("accuracy, flip_rate and macro_f1 on all data at least")
        .isGreaterThanOrEqualTo(3)
        .isLessThan(14);
    assertThat(suite.getAttribute("failures")).isEqualTo(Integer.toString(failures));
    Element first = (Element) doc.getElementsByTagName("failure").item(0);
    assertThat(((Element) first.getParentNode()).getAttribute("name"))
        .isEqualTo("accuracy max_drop 0.5% [all]");
    assertThat(first.getAttribute("message")).contains("exceeds max_drop 0.5%");

    String summary = Files.readString(md);
    assertThat(summary)
        .startsWith("## ❌ Policy release: failed")
        .contains("| " + BAD + " | ❌ failed | 14 | " + failures + " | 0 |")
        .containsPattern(
            "\\| accuracy max_drop 0\\.5% \\| all \\| 0\\.0\\d+ \\(0\\.\\d+ → 0\\.\\d+\\)")
        .contains("| flip_rate max 2% | all |")
        .contains("❌ **fail**")
        .containsPattern(
            "\\| size max_ratio 1 \\| all \\| ×1 \\([\\d,]+ → [\\d,]+\\) \\| ≤ 1 \\| \\+0 \\| ✅ pass \\|");
    try (var files = Files.list(junit.getParent())) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .as("no temporary files left behind")
          .containsExactlyInAnyOrder("junit.xml", "gate.md");
    }
  }

  @Test
  void everyCandidateIsJudgedByDefaultAndJsonIsForScripts() throws Exception {
    Cli r =
        Cli.run("gate", "--policy", policy.toString(), "--report", reportDir.toString(), "--json");
    assertThat(r.exitCode()).as(r.err()).isEqualTo(1);
    JsonNode json = new ObjectMapper().readTree(r.out());
    assertThat(json.get("policy").asText()).isEqualTo("release");
    assertThat(json.get("passed").asBoolean()).isFalse();
    assertThat(json.get("candidates").findValuesAsText("name")).containsExactly(GOOD, BAD);
    assertThat(json.get("candidates").get(0).get("passed").asBoolean()).isTrue();
    assertThat(json.get("candidates").get(1).get("passed").asBoolean()).isFalse();
    assertThat(json.get("verdicts")).hasSize(28);
    JsonNode accuracy = json.get("verdicts").get(14);
    assertThat(accuracy.get("candidate").asText()).isEqualTo(BAD);
    assertThat(accuracy.get("outcome").asText()).isEqualTo("fail");
    assertThat(accuracy.get("margin").asDouble())
        .isEqualTo(
            0.005 - accuracy.get("measured").asDouble(),
            org.assertj.core.data.Offset.offset(1e-12));
  }

  @Test
  void thePolicyInTheReadmeJudgesTheReport() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"));
    int start = readme.indexOf("# release.yaml\n");
    assertThat(start).as("the Gate section's example policy").isPositive();
    Path example =
        Files.writeString(
            tmp.resolve("readme.yaml"), readme.substring(start, readme.indexOf("```", start)));
    Cli r = Cli.run("gate", "--policy", example.toString(), "--report", reportDir.toString());
    assertThat(r.exitCode()).as(r.err()).isEqualTo(1);
    assertThat(r.out())
        .contains(BAD + ": FAILED")
        .contains("accuracy max_drop 2% per slice")
        .contains("latency_p95 max_ratio 0.7");
  }

  /**
   * {@code gate} needs the report and the policy, not ONNX Runtime: it runs in a JVM whose class
   * path is the CLI's without the ONNX Runtime and DJL jars (and their native libraries).
   */
  @Test
  void gateRunsFromAClassPathWithoutOnnxRuntime() throws Exception {
    List<String> full = List.of(System.getProperty("java.class.path").split(File.pathSeparator));
    List<String> light =
        full.stream()
            .filter(e -> !e.contains("onnxruntime") && !e.replace('\\', '/').contains("/ai/djl/"))
            .toList();
    assertThat(full.size() - light.size()).as("ONNX Runtime and DJL jars left out").isPositive();
    assertThat(gateWithout(light, GOOD)).as("the good candidate passes").isZero();
    assertThat(gateWithout(light, BAD)).as("the degraded one fails").isEqualTo(1);
  }

  private int gateWithout(List<String> classPath, String candidate) throws Exception {
    Path out = tmp.resolve("light-" + candidate.replaceAll("[^a-z0-9]", "") + ".txt");
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                String.join(File.pathSeparator, classPath),
                "io.quantguard.cli.Main",
                "gate",
                "--policy",
                policy.toString(),
                "--report",
                reportDir.toString(),
                "--candidate",
                candidate)
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .start();
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
    String printed = Files.readString(out);
    assertThat(printed).as(printed).contains("Policy release: ").doesNotContain("Exception");
    return p.exitValue();
  }

  @Test
  void badInputExitsThreeAndWritesNothing() throws Exception {
    Path junit = tmp.resolve("bad/junit.xml");
    Path missing =
        Files.writeString(tmp.resolve("embedding.yaml"), "rules:\n  cosine_mean: {min: 0.99}\n");
    Cli noMetric =
        Cli.run(
            "gate",
            "--policy",
            missing.toString(),
            "--report",
            reportDir.toString(),
            "--junit",
            junit.toString());
    assertThat(noMetric.exitCode()).isEqualTo(3);
    assertThat(noMetric.err())
        .contains("embedding.yaml")
        .contains("no metric 'cosine_mean'")
        .contains("metrics in the report: accuracy, macro_f1");
    assertThat(junit).doesNotExist();

    Path typo = Files.writeString(tmp.resolve("typo.yaml"), "rules:\n  accuracy: {max_dorp: 1%}\n");
    Cli unknownKey = Cli.run("gate", "--policy", typo.toString(), "--report", reportDir.toString());
    assertThat(unknownKey.exitCode()).isEqualTo(3);
    assertThat(unknownKey.err()).contains("unknown policy key 'max_dorp'");

    Cli unknownCandidate =
        Cli.run(
            "gate",
            "--policy",
            policy.toString(),
            "--report",
            reportDir.toString(),
            "--candidate",
            "int8.onnx");
    assertThat(unknownCandidate.exitCode()).isEqualTo(3);
    assertThat(unknownCandidate.err()).contains("int8.onnx").contains(GOOD).contains(BAD);

    Cli notAReport = Cli.run("gate", "--policy", policy.toString(), "--report", policy.toString());
    assertThat(notAReport.exitCode()).isEqualTo(3);

    Cli usage = Cli.run("gate", "--report", reportDir.toString());
    assertThat(usage.exitCode()).isEqualTo(2);
    assertThat(usage.err()).contains("--policy");
  }

  @Test
  void evaluateJudgesItsFreshReportWithAPolicy() throws Exception {
    Path dir = tmp.resolve("eval-policy");
    Cli r =
        Cli.run(
            "evaluate",
            "--baseline",
            TestModels.fashionCnn().toString(),
            "--candidate",
            noisy.toString(),
            "--task",
            "classification",
            "--data",
            data + "&limit=1000",
            "--bootstrap",
            "100",
            "--policy",
            policy.toString(),
            "--report",
            dir.toString());
    assertThat(r.exitCode()).as(r.err()).isEqualTo(1);
    assertThat(r.out())
        .contains("QuantGuard evaluation: classification")
        .contains("Policy release: FAILED");
    JsonNode json = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
    assertThat(json.get("schema").asText()).isEqualTo("quantguard.evaluate/1");
    assertThat(json.get("policy").get("passed").asBoolean()).isFalse();
    assertThat(Files.readString(dir.resolve("report.md"))).contains("### ❌ Policy release: failed");

    Path bad = Files.writeString(tmp.resolve("bad.yaml"), "rules: {accuracy: {max_drop: lots}}\n");
    Cli early =
        Cli.run(
            "evaluate",
            "--baseline",
            TestModels.fashionCnn().toString(),
            "--candidate",
            noisy.toString(),
            "--task",
            "classification",
            "--data",
            data + "&limit=10",
            "--policy",
            bad.toString());
    assertThat(early.exitCode()).as("a bad policy is refused before evaluating").isEqualTo(3);
    assertThat(early.err()).contains("rules.accuracy.max_drop is 'lots'");
    assertThat(early.out()).isEmpty();
  }

  /** The CNN with seeded Gaussian noise (half a weight standard deviation) on its Gemm weights. */
  private static Path noisyCopy(Path cnn, Path out) {
    OnnxModel m = ModelIO.load(cnn);
    Random random = new Random(7);
    for (Node n : m.graph().nodes()) {
      if (n.opType().equals("Gemm")) {
        TensorProto w = m.graph().initializer(n.input(1)).orElseThrow();
        float[] v = TensorCodec.toFloats(w, m.externalData());
        double mean = 0;
        for (float x : v) {
          mean += x;
        }
        mean /= v.length;
        double var = 0;
        for (float x : v) {
          var += (x - mean) * (x - mean);
        }
        double sigma = 0.5 * Math.sqrt(var / v.length);
        for (int i = 0; i < v.length; i++) {
          v[i] = (float) (v[i] + sigma * random.nextGaussian());
        }
        m.graph().putInitializer(TensorCodec.fromFloats(w.getName(), TensorCodec.dims(w), v));
      }
    }
    ModelIO.save(m, out);
    return out;
  }
}

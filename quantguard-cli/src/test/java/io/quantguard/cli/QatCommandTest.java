package io.quantguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TestModels;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code quantguard qat} end to end on the Fashion-MNIST CNN at W4A8 (the shipped recipe), with the
 * 2,000-image samples of the test resources: a few hundred steps give a model that ONNX Runtime
 * loads and that is at least as accurate as PTQ's, less a small margin; a seed gives the same
 * bytes; bad input is a clear error.
 */
class QatCommandTest {
  private static final String RECIPE = Path.of("..", "recipes", "cnn-w4a8.yaml").toString();

  @TempDir Path tmp;

  private static String train(int limit) {
    return "idx:"
        + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz")
        + "?input=image&limit="
        + limit;
  }

  private static String cnn() {
    return TestModels.fashionCnn().toString();
  }

  @Test
  void aFewHundredStepsGiveAModelAsAccurateAsPtq() throws Exception {
    Path qat = tmp.resolve("qat.onnx");
    Cli r =
        Cli.run(
            "qat",
            "--model",
            cnn(),
            "--data",
            train(2000),
            "--calibration",
            train(500),
            "--recipe",
            RECIPE,
            "--epochs",
            "4",
            "--max-steps",
            "250",
            "--batch-size",
            "32",
            "--lr",
            "1e-4",
            "--seed",
            "3",
            "--out",
            qat.toString());
    System.out.println(r.out() + r.err());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.err()).contains("step 50 of 250, fine-tuning, loss");
    assertThat(r.out()).contains("Trained     250 steps");
    Path ptq = tmp.resolve("ptq.onnx");
    Cli q =
        Cli.run(
            "quantize",
            cnn(),
            "--recipe",
            RECIPE,
            "--calibration",
            train(500),
            "-o",
            ptq.toString());
    assertThat(q.exitCode()).as(q.err()).isZero();
    double qatAccuracy = accuracy(qat);
    double ptqAccuracy = accuracy(ptq);
    System.out.printf(
        "2,000 test images on ONNX Runtime: QAT %.4f, PTQ %.4f%n", qatAccuracy, ptqAccuracy);
    assertThat(qatAccuracy).isGreaterThanOrEqualTo(ptqAccuracy - 0.005);
    OnnxModel m = ModelIO.load(qat);
    assertThat(m.metadata().get("quantguard.qat")).contains("\"steps\":250", "\"seed\":3");

    // The registry keeps the training in the version's lineage; reproduction, which re-runs the
    // recipe on the parent, says it cannot repeat training instead of reporting different bytes.
    String registry = tmp.resolve("registry").toString();
    Cli parent =
        Cli.run("registry", "register", cnn(), "--name", "cnn-fp32", "--registry", registry);
    assertThat(parent.exitCode()).as(parent.err()).isZero();
    Cli child =
        Cli.run(
            "registry",
            "register",
            qat.toString(),
            "--name",
            "cnn",
            "--parent",
            "cnn-fp32@1",
            "--registry",
            registry);
    assertThat(child.exitCode()).as(child.err()).isZero();
    Cli show = Cli.run("registry", "show", "cnn@1", "--registry", registry);
    assertThat(show.out()).contains("Training    quantization-aware:").contains("\"steps\":250");
    Cli json = Cli.run("registry", "show", "cnn@1", "--registry", registry, "--json");
    assertThat(json.out()).contains("\"training\"").contains("\"seed\":3");
    Cli reproduce =
        Cli.run(
            "registry", "reproduce", "cnn@1", "--calibration", train(500), "--registry", registry);
    assertThat(reproduce.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(reproduce.err()).contains("trained quantization-aware");
  }

  @Test
  void theSameSeedGivesTheSameModel() throws Exception {
    byte[][] bytes = new byte[2][];
    for (int i = 0; i < 2; i++) {
      Path out = tmp.resolve("run" + i + ".onnx");
      Cli r =
          Cli.run(
              "qat",
              "--model",
              cnn(),
              "--data",
              train(500),
              "--recipe",
              RECIPE,
              "--max-steps",
              "20",
              "--lr",
              "1e-3",
              "--seed",
              "5",
              "--distill",
              "--out",
              out.toString());
      assertThat(r.exitCode()).as(r.err()).isZero();
      bytes[i] = Files.readAllBytes(out);
    }
    assertThat(bytes[1]).isEqualTo(bytes[0]);
  }

  @Test
  void sensitiveLayersAreMeasuredThenTrained() throws Exception {
    Path out = tmp.resolve("sensitive.onnx");
    Cli r =
        Cli.run(
            "qat",
            "--model",
            cnn(),
            "--data",
            train(512),
            "--recipe",
            RECIPE,
            "--layers",
            "sensitive:1",
            "--max-steps",
            "4",
            "--out",
            out.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    // The CNN's four quantized nodes ranked; W4A8's most sensitive is one of them, trained alone.
    assertThat(r.err())
        .containsPattern("Layers {6}the 1 most sensitive of 4: \\S+ \\(-?[0-9.]+ dB alone\\)");
    String trained = r.err().replaceAll("(?s).*most sensitive of 4: (\\S+) .*", "$1");
    assertThat(ModelIO.load(out).metadata().get("quantguard.qat"))
        .contains("\"layers\":[\"" + trained + "\"]");
  }

  @Test
  void learnedRangesAreTrainedAndRecorded() throws Exception {
    Path out = tmp.resolve("lsq.onnx");
    Cli r =
        Cli.run(
            "qat",
            "--model",
            cnn(),
            "--data",
            train(512),
            "--recipe",
            Path.of("..", "recipes", "cnn-w4a4.yaml").toString(),
            "--learn-ranges",
            "--max-steps",
            "10",
            "--lr",
            "1e-3",
            "--out",
            out.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("activation ranges as learned (LSQ)");
    OnnxModel m = ModelIO.load(out);
    assertThat(m.metadata().get("quantguard.qat")).contains("learned step sizes (LSQ)");
    // 4-bit activations in uint8: every quantizer clipped to [0, 15]'s range first
    assertThat(m.graph().nodes().stream().filter(n -> n.opType().equals("Clip")).count())
        .isEqualTo(
            m.graph().nodes().stream().filter(n -> n.opType().equals("QuantizeLinear")).count());
  }

  @Test
  void validatesCheckpointsAndResumes() throws Exception {
    Path dir = tmp.resolve("checkpoints");
    String[] args = {
      "qat",
      "--model",
      cnn(),
      "--data",
      train(512),
      "--recipe",
      RECIPE,
      "--distill",
      "--optimizer",
      "sgd",
      "--lr",
      "1e-2",
      "--schedule",
      "cosine",
      "--warmup",
      "2",
      "--max-steps",
      "6",
      "--batch-size",
      "32",
      "--validation",
      "idx:"
          + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz")
          + "?input=image&limit=128",
      "--validate-every",
      "3",
      "--checkpoints",
      dir.toString(),
      "--checkpoint-every",
      "3",
      "--out",
      tmp.resolve("first.onnx").toString()
    };
    Cli first = Cli.run(args);
    assertThat(first.exitCode()).as(first.err()).isZero();
    assertThat(first.out()).containsPattern("Validation  best loss [0-9.]+ at step [36]");
    assertThat(first.err()).contains("validation");
    String meta = ModelIO.load(tmp.resolve("first.onnx")).metadata().get("quantguard.qat");
    assertThat(meta)
        .contains("\"optimizer\":\"sgd\"", "\"schedule\":\"cosine\"", "\"validation_loss\":");
    assertThat(dir).isNotEmptyDirectory();

    // The same command again continues from the last checkpoint: nothing left to train, the
    // same model.
    args[args.length - 1] = tmp.resolve("again.onnx").toString();
    Cli again = Cli.run(args);
    assertThat(again.exitCode()).as(again.err()).isZero();
    assertThat(again.out()).contains("Resumed     from the checkpoint at step 6");
    // the same graph and values; only the training note says that it resumed
    OnnxModel resumed = ModelIO.load(tmp.resolve("again.onnx"));
    OnnxModel straight = ModelIO.load(tmp.resolve("first.onnx"));
    assertThat(resumed.metadata().get("quantguard.qat")).contains("\"resumed_from_step\":6");
    assertThat(resumed.toProto().getGraph()).isEqualTo(straight.toProto().getGraph());

    // Other settings on the same folder are refused, not mixed in.
    args[java.util.Arrays.asList(args).indexOf("1e-2")] = "5e-3";
    Cli other = Cli.run(args);
    assertThat(other.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(other.err()).contains("was written by a run with other settings");
  }

  @Test
  void badInputIsAClearError() {
    Cli both =
        Cli.run(
            "qat", "--model", cnn(), "--data", train(100), "--labels", "--distill", "--out", "x");
    assertThat(both.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(both.err()).contains("--labels", "--distill", "mutually exclusive");

    Cli layer = badQat("--recipe", RECIPE, "--layers", "no_such_node");
    assertThat(layer.err()).contains("--layers", "no_such_node", "is not a node of the model");
    assertThat(badQat("--layers", "sensitive:0").err()).contains("sensitive:N with N >= 1");
    assertThat(badQat("--lr", "0").err()).contains("--lr", "must be positive");
    assertThat(badQat("--optimizer", "lion").err()).contains("--optimizer", "lion", "adam or sgd");
    // refused by the library before it calibrates, in the flag's words
    assertThat(badQat("--patience", "2").err())
        .contains("--patience 2: needs validation data to stop on");
  }

  /** {@code qat} on the CNN with {@code extra} arguments, which must be refused as bad input. */
  private Cli badQat(String... extra) {
    List<String> args = new ArrayList<>(List.of("qat", "--model", cnn(), "--data", train(100)));
    args.addAll(List.of(extra));
    args.addAll(List.of("--out", tmp.resolve("refused.onnx").toString()));
    Cli r = Cli.run(args.toArray(String[]::new));
    assertThat(r.exitCode()).as(r.err()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(tmp.resolve("refused.onnx")).doesNotExist();
    return r;
  }

  /** Top-1 accuracy on the 2,000 test images of the sample, on ONNX Runtime. */
  private static double accuracy(Path model) {
    var test =
        DataSpec.parse(
            "idx:" + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz") + "?input=image");
    long correct = 0;
    long n = 0;
    try (InferenceSession s = InferenceSession.open(ModelIO.load(model), SessionConfig.defaults());
        BatchStream b = test.open(500)) {
      while (b.hasNext()) {
        Batch batch = b.next();
        float[] logits = s.run(batch.inputs()).get("logits").floats();
        long[] labels = batch.labels();
        for (int i = 0; i < batch.size(); i++) {
          int best = 0;
          for (int c = 1; c < 10; c++) {
            if (logits[i * 10 + c] > logits[i * 10 + best]) {
              best = c;
            }
          }
          correct += labels != null && best == labels[i] ? 1 : 0;
        }
        n += batch.size();
      }
    }
    return correct / (double) n;
  }
}

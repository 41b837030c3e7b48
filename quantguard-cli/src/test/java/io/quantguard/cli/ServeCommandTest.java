package io.quantguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TestModels;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Collections;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code quantguard serve} end to end, in-process on port 0: the Fashion-MNIST CNN registered and
 * promoted, served from the registry, one request, {@code serve-bench} against it, then stopped.
 */
class ServeCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  @Test
  void servesTheProductionVersionFromTheRegistry() throws Exception {
    String registry = tmp.resolve("registry").toString();
    Path cnn = TestModels.fashionCnn();
    // Version 2: the same network with a note in its metadata, so a different file.
    OnnxModel noted = ModelIO.load(cnn);
    noted.putMetadata("note", "retrained");
    Path cnn2 = tmp.resolve("cnn2.onnx");
    ModelIO.save(noted, cnn2);
    for (Path p : new Path[] {cnn, cnn2}) {
      Cli reg =
          Cli.run("registry", "register", p.toString(), "--name", "cnn", "--registry", registry);
      assertThat(reg.exitCode()).as(reg.err()).isZero();
    }
    assertThat(
            Cli.run("registry", "promote", "cnn@1", "--reason", "baseline", "--registry", registry)
                .exitCode())
        .isZero();

    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    AtomicInteger exit = new AtomicInteger(-1);
    Thread serving =
        new Thread(
            () ->
                exit.set(
                    Main.run(
                        new String[] {
                          "serve",
                          "--registry",
                          registry,
                          "--model",
                          "cnn",
                          "--port",
                          "0",
                          "--threads",
                          "2"
                        },
                        new PrintWriter(out, true),
                        new PrintWriter(err, true))));
    serving.start();
    Pattern listening = Pattern.compile("Serving\\s+(http://127\\.0\\.0\\.1:\\d+)");
    String url = null;
    for (int i = 0; i < 600 && url == null && serving.isAlive(); i++) {
      Matcher m = listening.matcher(out.toString());
      url = m.find() ? m.group(1) : null;
      Thread.sleep(100);
    }
    assertThat(url).as("stdout: %s%nstderr: %s", out, err).isNotNull();
    try {
      // The bare name means production: version 1, although 2 is newer.
      assertThat(out.toString()).contains("cnn@1").contains("registry cnn@1 (production, sha256 ");
      JsonNode meta = get(url + "/v2/models/cnn");
      assertThat(meta.path("versions").toString()).isEqualTo("[\"1\"]");

      String ones = String.join(",", Collections.nCopies(784, "0.5"));
      HttpResponse<String> r =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(url + "/v2/models/cnn/infer"))
                      .header("Content-Type", "application/json")
                      .POST(
                          HttpRequest.BodyPublishers.ofString(
                              "{\"inputs\":[{\"name\":\"image\",\"shape\":[1,1,28,28],"
                                  + "\"datatype\":\"FP32\",\"data\":["
                                  + ones
                                  + "]}]}"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      JsonNode logits = JSON.readTree(r.body()).path("outputs").get(0);
      assertThat(logits.path("shape").toString()).isEqualTo("[1,10]");

      Cli bench =
          Cli.run(
              "serve-bench",
              url,
              "--model",
              "cnn",
              "--clients",
              "1,2",
              "--duration-s",
              "1",
              "--warmup-s",
              "0.2",
              "--json");
      assertThat(bench.exitCode()).as(bench.err()).isZero();
      JsonNode runs = JSON.readTree(bench.out()).path("runs");
      assertThat(runs.size()).isEqualTo(2);
      assertThat(runs.get(1).path("clients").asInt()).isEqualTo(2);
      assertThat(runs.get(1).path("ok").asLong()).isPositive();
      assertThat(runs.get(1).path("unexpected").asLong()).isZero();
      assertThat(runs.get(1).path("latency_ms").path("p99Ms").asDouble()).isPositive();

      // on a schedule: the rate is kept, whatever the number of clients
      Cli paced =
          Cli.run(
              "serve-bench",
              url,
              "--model",
              "cnn",
              "--clients",
              "2",
              "--rate",
              "100",
              "--duration-s",
              "2",
              "--warmup-s",
              "0.2",
              "--json");
      assertThat(paced.exitCode()).as(paced.err()).isZero();
      JsonNode pacedDoc = JSON.readTree(paced.out());
      assertThat(pacedDoc.path("rate_per_s").asDouble()).isEqualTo(100);
      JsonNode run = pacedDoc.path("runs").get(0);
      assertThat(run.path("unexpected").asLong()).isZero();
      assertThat(run.path("throughput_per_s").asDouble()).isBetween(85.0, 105.0);
      Cli noRate = Cli.run("serve-bench", url, "--model", "cnn", "--rate", "0");
      assertThat(noRate.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
      assertThat(noRate.err()).contains("--rate");
    } finally {
      serving.interrupt();
      serving.join(60_000);
    }
    assertThat(exit.get()).as(err.toString()).isZero();
  }

  @Test
  void badInvocationsExitWithTheirCodes() {
    Cli none = Cli.run("serve");
    assertThat(none.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(none.err()).contains("nothing to serve");
    Cli missing =
        Cli.run("serve", "--model-file", "cnn=" + tmp.resolve("missing.onnx"), "--port", "0");
    assertThat(missing.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(missing.err()).contains("missing.onnx").contains("no such file");
    Cli badName =
        Cli.run("serve", "--model-file", "../etc=" + TestModels.fashionCnn(), "--port", "0");
    assertThat(badName.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(badName.err()).contains("'../etc' is not a model name");
    Cli unregistered =
        Cli.run(
            "serve",
            "--registry",
            tmp.resolve("empty").toString(),
            "--model",
            "cnn",
            "--port",
            "0");
    assertThat(unregistered.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
  }

  @Test
  void aBadLatencyObjectiveIsAUsageError() {
    String cnn = TestModels.fashionCnn().toString();
    String[] two = {"serve", "--port", "0", "--model-file", "cnn=" + cnn, "--model-file"};
    Cli words = Cli.run(with(two, "cnn@2=" + cnn, "--adaptive", "--latency-objective", "fast"));
    assertThat(words.exitCode()).as(words.err()).isEqualTo(ExitCodes.USAGE);
    assertThat(words.err()).contains("--latency-objective").contains("not a latency objective");
    Cli p100 = Cli.run(with(two, "cnn@2=" + cnn, "--adaptive", "--latency-objective", "p100<=5ms"));
    assertThat(p100.exitCode()).as(p100.err()).isEqualTo(ExitCodes.USAGE);
    Cli zero = Cli.run(with(two, "cnn@2=" + cnn, "--adaptive", "--latency-objective", "p95<=0ms"));
    assertThat(zero.exitCode()).as(zero.err()).isEqualTo(ExitCodes.USAGE);
    Cli none = Cli.run(with(two, "cnn@2=" + cnn, "--adaptive"));
    assertThat(none.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(none.err()).contains("--adaptive needs --latency-objective");
    Cli alone = Cli.run(with(two, "cnn@2=" + cnn, "--latency-objective", "p95<=20ms"));
    assertThat(alone.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(alone.err()).contains("only with --adaptive");
    Cli one =
        Cli.run(
            "serve",
            "--port",
            "0",
            "--model-file",
            "cnn=" + cnn,
            "--adaptive",
            "--latency-objective",
            "p95<=20ms");
    assertThat(one.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(one.err()).contains("several versions");
  }

  @Test
  void adaptiveServesTheVariantsOfAModelAndShowsTheChoice() throws Exception {
    String cnn = TestModels.fashionCnn().toString();
    Served s =
        serve(
            "--port",
            "0",
            "--threads",
            "2",
            "--model-file",
            "cnn=" + cnn,
            "--model-file",
            "cnn@2=" + cnn,
            "--adaptive",
            "--latency-objective",
            "p95<=50ms");
    try {
      assertThat(s.out().toString()).contains("Adaptive    cnn keeps p95 <= 50 ms on cnn@1");
      JsonNode v = get(s.url() + "/v2/models/cnn/variants");
      assertThat(v.path("active").asInt()).isEqualTo(1);
      assertThat(v.path("objective").asText()).isEqualTo("p95 <= 50 ms");
      // The same file twice: whichever the probe measured slower is refused or ranked after.
      assertThat(v.path("ladder").size() + v.path("refused").size()).isEqualTo(2);
    } finally {
      s.stop();
    }
  }

  private static String[] with(String[] head, String... tail) {
    String[] all = java.util.Arrays.copyOf(head, head.length + tail.length);
    System.arraycopy(tail, 0, all, head.length, tail.length);
    return all;
  }

  @Test
  void startsARolloutAndARestartWithoutTheOptionResumesIt() throws Exception {
    String registry = tmp.resolve("registry").toString();
    OnnxModel noted = ModelIO.load(TestModels.fashionCnn());
    noted.putMetadata("note", "retrained");
    Path cnn2 = tmp.resolve("cnn2.onnx");
    ModelIO.save(noted, cnn2);
    for (Path p : new Path[] {TestModels.fashionCnn(), cnn2}) {
      assertThat(
              Cli.run("registry", "register", p.toString(), "--name", "cnn", "--registry", registry)
                  .exitCode())
          .isZero();
    }
    Cli.run("registry", "promote", "cnn@1", "--reason", "baseline", "--registry", registry);
    Path policy = java.nio.file.Files.writeString(tmp.resolve("live.yaml"), POLICY);

    Cli noPolicy = Cli.run("serve", "--registry", registry, "--rollout", "cnn@2", "--port", "0");
    assertThat(noPolicy.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(noPolicy.err()).contains("--rollout-policy");
    Cli badSteps =
        Cli.run(
            "serve",
            "--registry",
            registry,
            "--rollout",
            "cnn@2",
            "--rollout-policy",
            policy.toString(),
            "--rollout-steps",
            "5,50",
            "--port",
            "0");
    assertThat(badSteps.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(badSteps.err()).contains("--rollout-steps [5, 50]: must end at 100 %");

    Served first =
        serve(
            "--registry",
            registry,
            "--rollout",
            "cnn@2",
            "--rollout-policy",
            policy.toString(),
            "--rollout-steps",
            "20,100",
            "--rollout-interval-s",
            "3600",
            "--reason",
            "canary",
            "--port",
            "0",
            "--threads",
            "2");
    long id;
    try {
      assertThat(first.out().toString())
          .contains("Rollout     cnn@2 against cnn@1: canary, running at 20 %");
      JsonNode status = get(first.url() + "/v2/rollouts/cnn").path("rollout");
      assertThat(status.path("state").asText()).isEqualTo("running");
      assertThat(status.path("steps").toString()).isEqualTo("[20,100]");
      id = status.path("rollout").asLong();
    } finally {
      first.stop();
    }
    // Restarted with the model only: the rollout under way is resumed, not forgotten.
    Served second =
        serve("--registry", registry, "--model", "cnn", "--port", "0", "--threads", "2");
    try {
      JsonNode status = get(second.url() + "/v2/rollouts/cnn").path("rollout");
      assertThat(status.path("rollout").asLong()).isEqualTo(id);
      assertThat(status.path("share").asDouble()).isEqualTo(0.2);
      assertThat(get(second.url() + "/v2/models/cnn").path("versions").toString())
          .isEqualTo("[\"1\",\"2\"]");
    } finally {
      second.stop();
    }
    Cli log = Cli.run("registry", "log", "cnn", "--registry", registry);
    assertThat(log.out()).contains("rollout").contains("cnn@2 start (canary against cnn@1)");
  }

  @Test
  void watchesAServedModelForDriftAgainstTheProfileStoredInTheRegistry() throws Exception {
    String registry = tmp.resolve("registry").toString();
    String images = "idx:" + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz");
    Cli.run(
        "registry",
        "register",
        TestModels.fashionCnn().toString(),
        "--name",
        "cnn",
        "--registry",
        registry);
    Cli.run("registry", "promote", "cnn@1", "--reason", "baseline", "--registry", registry);

    Cli missing =
        Cli.run("serve", "--registry", registry, "--model", "cnn", "--drift", "--port", "0");
    assertThat(missing.exitCode()).as(missing.out()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(missing.err()).contains("has no drift profile").contains("registry profile cnn@1");
    Cli neither =
        Cli.run("registry", "profile", "cnn@1", "--reason", "ref", "--registry", registry);
    assertThat(neither.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(neither.err()).contains("exactly one of --data and --profile");

    Cli profile =
        Cli.run(
            "registry",
            "profile",
            "cnn@1",
            "--data",
            images + "?input=image&limit=200",
            "--reason",
            "200 training images",
            "--registry",
            registry);
    assertThat(profile.exitCode()).as(profile.err()).isZero();
    assertThat(profile.out()).contains("Profile     cnn@1: 200 reference samples, 9 features");

    Served s =
        serve(
            "--registry",
            registry,
            "--model",
            "cnn",
            "--drift",
            "--drift-interval-s",
            "0.5",
            "--port",
            "0",
            "--threads",
            "2");
    try {
      assertThat(s.out().toString()).contains("Drift       100.0% of requests");
      Cli bench =
          Cli.run(
              "serve-bench",
              s.url(),
              "--model",
              "cnn",
              "--clients",
              "2",
              "--duration-s",
              "1",
              "--warmup-s",
              "0.2",
              "--binary",
              "--data",
              images + "?input=image&limit=100");
      assertThat(bench.exitCode()).as(bench.err()).isZero();
      JsonNode window = null;
      for (int i = 0; i < 300; i++) {
        JsonNode d = get(s.url() + "/v2/models/cnn/drift").path("drift");
        if (d.path("window").path("samples").asLong() > 0) {
          window = d.path("window");
          assertThat(d.path("reference").path("samples").asLong()).isEqualTo(200);
          break;
        }
        Thread.sleep(100);
      }
      assertThat(window).as("a drift window closed with samples").isNotNull();
      assertThat(window.path("features").size()).isEqualTo(9);
    } finally {
      s.stop();
    }
    Cli log = Cli.run("registry", "log", "cnn", "--registry", registry);
    assertThat(log.out()).contains("profile").contains("cnn@1 drift profile sha256");
  }

  @Test
  void watchesAModelFileForDriftAgainstAProfileBuiltFromDataAtStart() throws Exception {
    String images = "idx:" + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz");
    String file = "cnn=" + TestModels.fashionCnn();
    Cli noProfile = Cli.run("serve", "--model-file", file, "--drift", "--port", "0");
    assertThat(noProfile.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(noProfile.err()).contains("--drift-data NAME=DATASPEC");
    Cli noDrift =
        Cli.run("serve", "--model-file", file, "--drift-profile", "cnn=p.json", "--port", "0");
    assertThat(noDrift.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(noDrift.err()).contains("need --drift");
    Cli unknown =
        Cli.run("serve", "--model-file", file, "--drift", "--drift-data", "bert=x", "--port", "0");
    assertThat(unknown.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(unknown.err()).contains("'bert', which no --model-file serves");

    Served s =
        serve(
            "--model-file",
            file,
            "--drift",
            "--drift-data",
            "cnn=" + images + "?input=image&limit=200",
            "--drift-interval-s",
            "0.5",
            "--port",
            "0",
            "--threads",
            "2");
    try {
      Cli bench =
          Cli.run(
              "serve-bench",
              s.url(),
              "--model",
              "cnn",
              "--clients",
              "2",
              "--duration-s",
              "1",
              "--warmup-s",
              "0.2",
              "--binary",
              "--data",
              images + "?input=image&limit=100");
      assertThat(bench.exitCode()).as(bench.err()).isZero();
      JsonNode window = null;
      for (int i = 0; i < 300 && window == null; i++) {
        JsonNode d = get(s.url() + "/v2/models/cnn/drift").path("drift");
        if (d.path("window").path("samples").asLong() > 0) {
          window = d.path("window");
          assertThat(d.path("reference").path("samples").asLong()).isEqualTo(200);
        }
        Thread.sleep(100);
      }
      assertThat(window).as("a drift window closed with samples").isNotNull();
      assertThat(window.path("features").size()).isEqualTo(9);
    } finally {
      s.stop();
    }
  }

  @Test
  void serveBenchHelpListsItsFlags() {
    Cli help = Cli.run("serve-bench", "--help");
    assertThat(help.exitCode()).as(help.err()).isZero();
    assertThat(help.out())
        .contains("--data=DATASPEC")
        .contains("--rows")
        .contains("--clients")
        .contains("--version")
        .contains("--binary");
  }

  @Test
  void serveBenchSendsRealTextSamplesToMiniLm() throws Exception {
    Served served =
        serve(
            "--model-file",
            "minilm=" + TestModels.miniLm(),
            "--port",
            "0",
            "--threads",
            "2",
            "--max-delay-ms",
            "2");
    try {
      Cli bench =
          Cli.run(
              "serve-bench",
              served.url(),
              "--model",
              "minilm",
              "--data",
              "text:europarl?tokenizer=minilm-tokenizer&column=3&max_length=32&limit=12",
              "--clients",
              "2",
              "--duration-s",
              "1",
              "--warmup-s",
              "0.5",
              "--binary",
              "--json");
      assertThat(bench.exitCode()).as(bench.err()).isZero();
      JsonNode doc = JSON.readTree(bench.out());
      assertThat(doc.path("distinct_requests").asInt()).isEqualTo(12);
      JsonNode run = doc.path("runs").get(0);
      assertThat(run.path("unexpected").asLong()).as(bench.out()).isZero();
      assertThat(run.path("ok").asLong()).isPositive();
      assertThat(run.path("latency_ms").path("p50Ms").asDouble())
          .isPositive()
          .isLessThanOrEqualTo(run.path("latency_ms").path("p99Ms").asDouble());

      // Images for a text model: refused up front, naming the missing input.
      Cli images =
          Cli.run(
              "serve-bench",
              served.url(),
              "--model",
              "minilm",
              "--data",
              "idx:"
                  + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz")
                  + "?input=image&limit=4",
              "--duration-s",
              "1");
      assertThat(images.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
      assertThat(images.err()).contains("--data idx:").contains("has no input 'input_ids'");
      Cli tooFew =
          Cli.run(
              "serve-bench",
              served.url(),
              "--model",
              "minilm",
              "--data",
              "text:europarl?tokenizer=minilm-tokenizer&column=3&limit=2",
              "--rows",
              "4");
      assertThat(tooFew.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
      assertThat(tooFew.err()).contains("has fewer than 4 samples");
    } finally {
      served.stop();
    }
  }

  private static final String POLICY = "name: live\nrules:\n  flip_rate: {max: 2%}\n";

  /** A {@code quantguard serve} running on its own thread until {@link #stop}. */
  private record Served(Thread thread, StringWriter out, StringWriter err, String url) {
    void stop() throws InterruptedException {
      thread.interrupt();
      thread.join(60_000);
    }
  }

  private static Served serve(String... args) throws InterruptedException {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    String[] all = new String[args.length + 1];
    all[0] = "serve";
    System.arraycopy(args, 0, all, 1, args.length);
    Thread t =
        new Thread(() -> Main.run(all, new PrintWriter(out, true), new PrintWriter(err, true)));
    t.start();
    Pattern listening = Pattern.compile("Metrics\\s+(http://127\\.0\\.0\\.1:\\d+)");
    for (int i = 0; i < 600 && t.isAlive(); i++) {
      Matcher m = listening.matcher(out.toString());
      if (m.find()) {
        return new Served(t, out, err, m.group(1));
      }
      Thread.sleep(100);
    }
    t.interrupt();
    throw new AssertionError("serve did not start: " + out + err);
  }

  private static JsonNode get(String url) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }
}

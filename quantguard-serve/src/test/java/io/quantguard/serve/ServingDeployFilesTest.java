package io.quantguard.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.quantguard.evaluate.drift.ReferenceProfile;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.Registration;
import io.quantguard.registry.Registry;
import io.quantguard.registry.Stage;
import io.quantguard.runtime.data.DataSpec;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deployment files under {@code deploy/}: the Prometheus alert rules and the Grafana dashboard
 * may only name metrics (and, in selectors, labels) that a real server exports: a renamed meter
 * would otherwise leave an alert that never fires. The rules are also checked and unit-tested with
 * {@code promtool} where Prometheus is installed.
 */
class ServingDeployFilesTest {
  private static final Path DEPLOY = Path.of("..", "deploy");
  private static final Path RULES = DEPLOY.resolve("prometheus/quantguard-alerts.yml");
  private static final Path RULE_TESTS = DEPLOY.resolve("prometheus/quantguard-alerts.test.yml");
  private static final Path DASHBOARD = DEPLOY.resolve("grafana/quantguard.json");
  private static final Pattern SAMPLE =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{([^}]*)\\})? ", Pattern.MULTILINE);
  private static final Pattern LABEL =
      Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(?:=~|!~|!=|=)");
  private static final Pattern SELECTOR =
      Pattern.compile("\\b(quantguard_[a-zA-Z0-9_]*)(?:\\{([^}]*)\\})?");
  private static final String POLICY =
      """
      name: live-cnn
      rules:
        flip_rate: {max: 10%}
        cosine_mean: {min: 0.95}
      """;

  @TempDir Path tmp;

  @Test
  void rulesAndDashboardQueryOnlyMetricsAndLabelsTheServerExports() throws Exception {
    Map<String, Set<String>> exported = scrapeAServerWithARollout();
    List<String> queries = new ArrayList<>(ruleExpressions());
    int ruleQueries = queries.size();
    queries.addAll(dashboardExpressions());
    assertThat(ruleQueries).as("alert rules").isGreaterThanOrEqualTo(7);
    assertThat(queries.size() - ruleQueries).as("dashboard queries").isGreaterThanOrEqualTo(12);

    Set<String> named = new TreeSet<>();
    for (String query : queries) {
      Matcher m = SELECTOR.matcher(query);
      while (m.find()) {
        String metric = m.group(1);
        named.add(metric);
        assertThat(exported).as("%s in %s is not exported", metric, query).containsKey(metric);
        if (m.group(2) != null) {
          Matcher label = LABEL.matcher(m.group(2));
          while (label.find()) {
            assertThat(exported.get(metric))
                .as("label %s of %s in %s", label.group(1), metric, query)
                .contains(label.group(1));
          }
        }
      }
    }
    // Every meter the server has is watched somewhere (a new one should get a panel).
    Set<String> families = new TreeSet<>();
    exported.keySet().forEach(n -> families.add(n.replaceAll("_(bucket|sum|count|max)$", "")));
    Set<String> watched = new TreeSet<>();
    named.forEach(n -> watched.add(n.replaceAll("_(bucket|sum|count|max)$", "")));
    assertThat(watched).containsAll(families);
  }

  @Test
  void promtoolChecksTheRulesAndTheirUnitTestsPass() throws Exception {
    Optional<Path> promtool = onPath("promtool");
    assumeTrue(
        promtool.isPresent(),
        "promtool is not on the PATH (Debian: apt-get install prometheus); rules not run");
    String check = run(promtool.get(), "check", "rules", RULES.getFileName().toString());
    assertThat(check).contains("SUCCESS: " + ruleExpressions().size() + " rules found");
    String test = run(promtool.get(), "test", "rules", RULE_TESTS.getFileName().toString());
    assertThat(test).contains("SUCCESS");
  }

  /**
   * Serves the FP32 CNN with an int8 candidate in a canary rollout, watched for drift, and the same
   * two as variants of a model with a latency objective, sends inferences (tagged with a slice) and
   * a request for an unknown model, judges one interval, closes one drift window, and returns each
   * exported series name with the label names it carries.
   */
  private Map<String, Set<String>> scrapeAServerWithARollout() throws Exception {
    Path cnn = TestModels.fashionCnn();
    Path int8 = tmp.resolve("cnn-int8.onnx");
    String train = "idx:" + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz");
    ModelIO.save(
        Quantizer.quantize(
                ModelIO.load(cnn),
                Recipe.defaults(),
                DataSpec.parse(train + "?input=image&limit=64"),
                Quantizer.Options.defaults())
            .model(),
        int8);
    Registry registry = Registry.open(tmp.resolve("registry").toString());
    registry.register(new Registration(cnn, "cnn", null, null, null, "fp32", "test"));
    registry.promote(ArtifactRef.of("cnn", 1), Stage.PRODUCTION, "the FP32 baseline", "test");
    registry.setProfile(
        ArtifactRef.of("cnn", 1),
        ReferenceProfile.builder()
            .model(cnn)
            .data(DataSpec.parse(train + "?input=image&limit=200"))
            .build()
            .write(tmp.resolve("profile.json")),
        "200 training images",
        "test");
    registry.register(new Registration(int8, "cnn", "cnn@1", null, null, "int8", "test"));
    RolloutController rollout =
        RolloutController.start(
            registry,
            ArtifactRef.of("cnn", 2),
            new RolloutSettings(
                RolloutSettings.Mode.CANARY, List.of(50, 100), Duration.ofHours(1), 4, 2),
            POLICY,
            "live-cnn.yaml",
            "deploy files test",
            "test");
    try (DriftMonitor drift =
            DriftMonitor.forRollout(
                registry, rollout, DriftSettings.defaults().withOverflowShare(1));
        InferenceServer server =
            InferenceServer.builder()
                .config(ServerConfig.defaults().withPort(0).withThreads(2))
                .rollout(rollout)
                .drift(drift)
                .model(new ModelSource.File("fast", 1, cnn))
                .model(new ModelSource.File("fast", 2, int8))
                .adaptive(
                    new VariantSelector(
                        "fast", AdaptiveSettings.of(LatencyObjective.parse("p95<=100ms")), "test"))
                .build()
                .start()) {
      for (int i = 0; i < 20; i++) {
        // tagged with a slice, so that the per-slice meters are exported too
        RequestBody body =
            RequestBody.binary("r" + i, Map.of("image", Responses.images(2, i)), false);
        List<String> headers = new ArrayList<>(List.of(TrafficSlices.HEADER, "night"));
        body.headers().forEach((k, v) -> headers.addAll(List.of(k, v)));
        Http.Response r =
            Http.post(
                server.url() + "/v2/models/cnn/infer",
                body.bytes(),
                headers.toArray(String[]::new));
        assertThat(r.status()).as(r.text()).isEqualTo(200);
      }
      assertThat(Http.get(server.url() + "/v2/models/nope").status()).isEqualTo(404);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (rollout.candidateRequestsSeen() < 4 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      rollout.analyze();
      while (drift.counts().get("offered") < 20 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(drift.settle(30_000)).isTrue();
      drift.analyze();
      String text = Http.get(server.url() + "/metrics").text();
      PrometheusText.check(text, tmp);
      Map<String, Set<String>> series = new HashMap<>();
      Matcher m = SAMPLE.matcher(text);
      while (m.find()) {
        Set<String> labels = series.computeIfAbsent(m.group(1), k -> new TreeSet<>());
        if (m.group(2) != null) {
          Matcher label = LABEL.matcher(m.group(2));
          while (label.find()) {
            labels.add(label.group(1));
          }
        }
      }
      assertThat(series)
          .containsKeys(
              "quantguard_rollout_decisions_total",
              "quantguard_rollout_flip_rate",
              "quantguard_rollout_slice_failed",
              "quantguard_errors_total",
              "quantguard_request_duration_seconds_bucket",
              "quantguard_drift_psi",
              "quantguard_overflow_tensor_rate",
              "quantguard_variant_active",
              "quantguard_variant_switches_total");
      return series;
    }
  }

  private static List<String> ruleExpressions() throws IOException {
    JsonNode rules = new ObjectMapper(new YAMLFactory()).readTree(RULES.toFile());
    List<String> exprs = new ArrayList<>();
    for (JsonNode group : rules.path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        exprs.add(rule.path("expr").asText());
      }
    }
    return exprs;
  }

  /** Every PromQL query of the dashboard: panel targets and template variable queries. */
  private static List<String> dashboardExpressions() throws IOException {
    JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
    List<String> exprs = new ArrayList<>();
    for (JsonNode target : dashboard.findValues("targets")) {
      target.forEach(t -> exprs.add(t.path("expr").asText()));
    }
    for (JsonNode variable : dashboard.path("templating").path("list")) {
      if (variable.path("type").asText().equals("query")) {
        exprs.add(variable.path("query").path("query").asText());
      }
    }
    exprs.forEach(e -> assertThat(e).as("an empty dashboard query").isNotBlank());
    return exprs;
  }

  private static Optional<Path> onPath(String tool) {
    String path = System.getenv().getOrDefault("PATH", "");
    return Stream.of(path.split(File.pathSeparator))
        .filter(d -> !d.isEmpty())
        .map(d -> Path.of(d, tool))
        .filter(Files::isExecutable)
        .findFirst();
  }

  /** Runs promtool in the rules' folder (the test file names the rules relative to itself). */
  private static String run(Path promtool, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(promtool.toString()));
    command.addAll(List.of(args));
    Process p =
        new ProcessBuilder(command)
            .directory(RULES.getParent().toFile())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("promtool %s finished", args[0]).isTrue();
    assertThat(p.exitValue()).as("promtool %s: %s", String.join(" ", args), out).isZero();
    return out;
  }
}

package io.quantguard.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quantguard.registry.Registry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The live dashboard ({@code GET /dashboard}) of a server running the Fashion-MNIST CNN with an
 * int8 candidate in shadow and drift watched: a window of test images, then one of inverted images
 * and a policy decision. Its JSON ({@code /v2/timeline}, {@code /v2/dashboard}) counts what was
 * sent; where headless Chromium is installed, it loads the page from the server, offline, and its
 * DOM shows filled charts, the drifted features and the recorded decision; the screenshot lands in
 * {@code target/dashboard/dashboard.png}.
 */
class DashboardTest {
  private static final Path OUT = Path.of("target", "dashboard");

  @TempDir Path tmp;

  @Test
  void theDashboardShowsTrafficQualityDriftAndDecisions() throws Exception {
    CnnDriftTest.prepare(tmp);
    Registry registry = Registry.open(tmp.resolve("registry").toString());
    RolloutController rollout = CnnDriftTest.shadowRollout(registry, CnnDriftTest.POLICY);
    try (DriftMonitor monitor =
            DriftMonitor.forRollout(registry, rollout, CnnDriftTest.everySample());
        InferenceServer server =
            InferenceServer.builder()
                .config(ServerConfig.defaults().withPort(0).withThreads(2))
                .rollout(rollout)
                .drift(monitor)
                .build()
                .start()) {
      String url = server.url();
      CnnDriftTest.traffic(server, monitor, 0, "");
      monitor.analyze();
      CnnDriftTest.traffic(server, monitor, 512, CnnDriftTest.INVERTED);
      monitor.analyze();
      // The timeline samples the live window once a second; the decision below resets it.
      long until = System.nanoTime() + 10_000_000_000L;
      while (max(Http.get(url + "/v2/timeline").json().path("rollouts").get(0), "paired") <= 0
          && System.nanoTime() < until) {
        Thread.sleep(100);
      }
      RolloutDecision d = rollout.analyze();
      assertThat(d.decision()).as(d.reason()).isEqualTo("hold");
      Thread.sleep(1500); // the timeline closes its second

      // The timeline counts every request of the baseline and every shadow row of the candidate.
      JsonNode timeline = Http.get(url + "/v2/timeline").json();
      assertThat(sum(version(timeline, 1), "requests_per_s")).isEqualTo(64);
      assertThat(sum(version(timeline, 2), "rows_per_s")).isEqualTo(64 * 16);
      assertThat(version(timeline, 1).path("role").asText()).isEqualTo("baseline");
      assertThat(version(timeline, 2).path("role").asText()).isEqualTo("candidate");
      assertThat(version(timeline, 1).path("p99_ms").toString()).matches(".*[0-9].*");
      JsonNode quality = timeline.path("rollouts").get(0);
      assertThat(max(quality, "paired")).isGreaterThan(0).isLessThanOrEqualTo(64 * 16);
      assertThat(max(quality, "cosine_mean")).isBetween(0.9, 1.0);
      JsonNode history =
          Http.get(url + "/v2/dashboard").json().path("rollouts").get(0).path("history");
      assertThat(history.findValuesAsText("decision")).containsExactly("start", "hold");
      assertThat(Http.get(url + "/v2/timeline?model=%3Cb%3E").json().path("versions")).isEmpty();

      Http.Response page = Http.get(url + "/dashboard");
      assertThat(page.status()).isEqualTo(200);
      assertThat(page.header("Content-Security-Policy")).contains("script-src 'self'");
      assertThat(Http.get(url + "/dashboard/echarts.min.js").body().length).isGreaterThan(900_000);

      Optional<Chromium> chromium = Chromium.find();
      assumeTrue(
          chromium.isPresent(),
          "chromium is not installed (apt-get install chromium); the page is not rendered");
      String dom = chromium.get().dumpDom(url + "/dashboard/cnn", 8000);
      Files.createDirectories(OUT);
      Files.writeString(OUT.resolve("dashboard.dom.html"), dom);
      for (String chart : List.of("latency", "throughput", "quality", "drift", "drift-history")) {
        assertThat(points(dom, chart)).as("points drawn in #" + chart).isGreaterThan(0);
      }
      assertThat(dom).contains("<canvas").doesNotContain("HTTP 4").doesNotContain("HTTP 5");
      List<String> drifted = driftedFeatures(dom);
      System.out.println("Dashboard: drifted features shown " + drifted);
      assertThat(drifted).contains("image:mean", "logits:class");
      assertThat(dom).contains("overflow rate").contains("/Div_output_0");
      assertThat(dom).contains(">hold<").contains("policy live-cnn-drift fails");

      // A name from the URL is shown as text, never as markup.
      String hostile = chromium.get().dumpDom(url + "/dashboard/%3Cb%20id%3Dinjected%3Ex", 3000);
      assertThat(hostile).doesNotContain("id=\"injected\"").contains("&lt;b id=injected&gt;x");

      Path png = OUT.resolve("dashboard.png");
      chromium.get().screenshot(url + "/dashboard", 8000, png, 1500);
      System.out.println("Dashboard screenshot: " + png.toAbsolutePath());
      assertThat(Files.size(png)).as("a rendered page with charts").isGreaterThan(60_000);
    }
  }

  private static JsonNode version(JsonNode timeline, int version) {
    for (JsonNode v : timeline.path("versions")) {
      if (v.path("model").asText().equals("cnn") && v.path("version").asInt() == version) {
        return v;
      }
    }
    throw new AssertionError("no cnn@" + version + " in " + timeline);
  }

  private static double max(JsonNode series, String column) {
    double m = Double.NEGATIVE_INFINITY;
    for (JsonNode x : series.path(column)) {
      if (x.isNumber()) {
        m = Math.max(m, x.asDouble());
      }
    }
    return m;
  }

  private static long sum(JsonNode series, String column) {
    long n = 0;
    for (JsonNode x : series.path(column)) {
      n += x.asLong();
    }
    return n;
  }

  private static int points(String dom, String id) {
    Matcher m = Pattern.compile("<div id=\"" + id + "\"[^>]*data-points=\"(\\d+)\"").matcher(dom);
    return m.find() ? Integer.parseInt(m.group(1)) : 0;
  }

  private static List<String> driftedFeatures(String dom) {
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile("<tr class=\"drifted\"><td>([^<]+)</td>").matcher(dom);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }
}

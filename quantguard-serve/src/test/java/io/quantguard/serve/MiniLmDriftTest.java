package io.quantguard.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;

/**
 * all-MiniLM-L6-v2 in static int8 from the shipped recipe ({@code recipes/minilm-static-int8.yaml},
 * 32 English Europarl calibration texts) in shadow against FP32 inside the server, on a stream that
 * switches from English Europarl to technical English: three windows of 16 texts on each side, one
 * text per request, every request through the overflow probe. The drift, the overflow rate and the
 * live cosine must see the switch; the tail is gauged and judged by the release policy's tail keys;
 * the attribution ranks with ties shared and puts the drop down to the input shift ({@link
 * MiniLmDriftMeasurement} has the figures with 500 calibration texts and windows of 60).
 */
class MiniLmDriftTest {
  private static final int WINDOW = 16;

  @Test
  void aSwitchToTechnicalEnglishShowsInTheDriftAndTheOverflowAndTheTailIsJudgedLive()
      throws Exception {

    try (MiniLmShadowStream s =
        new MiniLmShadowStream(
            Path.of("target", "minilm-drift-test"),
            "minilm-static-int8",
            "&limit=32",
            "&offset=500&limit=64",
            "name: live-minilm\nrules:\n  cosine_p1: {min: 0.995}\n"
                + "  cosine_below_0_98: {max: 0.5%}\n")) {
      List<JsonNode> before = new ArrayList<>();
      List<JsonNode> after = new ArrayList<>();
      for (int k = 0; k < 3; k++) {
        before.add(
            s.window(
                MiniLmShadowStream.EUROPARL
                    + "&offset="
                    + (800 + k * WINDOW)
                    + "&limit="
                    + WINDOW));
      }
      for (int k = 0; k < 3; k++) {
        after.add(s.window(s.technical + "&offset=" + (k * WINDOW) + "&limit=" + WINDOW));
      }
      before.forEach(w -> print("Europarl", w));
      after.forEach(w -> print("technical", w));

      // the inputs drift, more activations leave the calibrated ranges, and the live cosine falls
      ToDoubleFunction<JsonNode> share = w -> w.path("drift_share").asDouble();
      assertThat(min(after, share)).isGreaterThan(max(before, share));
      ToDoubleFunction<JsonNode> overflow = w -> w.path("overflow").path("rate").asDouble();
      assertThat(mean(after, overflow)).isGreaterThan(1.2 * mean(before, overflow));
      ToDoubleFunction<JsonNode> p5 = w -> w.path("quality").path("cosine_p5").asDouble();
      assertThat(max(after, p5)).isLessThan(min(before, p5));
      ToDoubleFunction<JsonNode> cosine = w -> w.path("quality").path("cosine_mean").asDouble();
      assertThat(mean(after, cosine)).isLessThan(mean(before, cosine));

      // every window reports the tail, ordered as a tail is, at the recipe's quality
      for (JsonNode w : concat(before, after)) {
        JsonNode q = w.path("quality");
        assertThat(q.path("paired").asLong()).isEqualTo(WINDOW);
        assertThat(q.path("cosine_p1").asDouble())
            .isLessThanOrEqualTo(q.path("cosine_p5").asDouble())
            .isGreaterThan(0.95);
        assertThat(q.path("cosine_p5").asDouble()).isLessThan(q.path("cosine_mean").asDouble());
        assertThat(q.path("cosine_mean").asDouble()).isGreaterThan(0.985);
        assertThat(q.path("cosine_below_0_98").asDouble()).isBetween(0.0, 0.2);
      }

      // the gauge carries the latest window's tail; the rollout's policy judges the same keys
      JsonNode last = after.get(after.size() - 1);
      String metrics = Http.get(s.server.url() + "/metrics").text();
      assertThat(
              PrometheusText.value(
                  metrics,
                  "quantguard_drift_quality",
                  Map.of("model", "minilm", "metric", "cosine_p5")))
          .isCloseTo(last.path("quality").path("cosine_p5").asDouble(), within(1e-9));
      RolloutDecision d = s.rollout.analyze();
      assertThat(d.decision()).isEqualTo("hold");
      assertThat(d.reason()).contains("cosine_p1");
      assertThat(d.measured()).containsKeys("cosine_p1", "cosine_p5", "cosine_below_0_98");

      // the attribution follows the tail, puts its fall down to the change of traffic, labels each
      // series and shares the rank of ties
      JsonNode a = s.drift().path("attribution");
      System.out.println("attribution: " + a.path("summary").asText());
      assertThat(a.path("quality").asText()).isEqualTo("cosine_p5");
      assertThat(a.path("summary").asText())
          .startsWith("cosine_p5 went from ")
          .contains("the quality drop coincides with an input shift: input_ids:");
      List<String> kinds = new ArrayList<>();
      JsonNode previous = null;
      for (JsonNode r : a.path("ranked")) {
        kinds.add(r.path("kind").asText());
        if (previous != null) {
          boolean tie =
              Math.abs(previous.path("association").asDouble() - r.path("association").asDouble())
                  < 1e-9;
          assertThat(r.path("rank").asInt())
              .isEqualTo(tie ? previous.path("rank").asInt() : kinds.size());
        }
        previous = r;
      }
      assertThat(kinds).contains("input", "output", "tensor");
    }
  }

  private static List<JsonNode> concat(List<JsonNode> a, List<JsonNode> b) {
    List<JsonNode> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  private static void print(String corpus, JsonNode w) {
    JsonNode q = w.path("quality");
    System.out.printf(
        Locale.ROOT,
        "%s: drifted share %.2f, overflow %.3g, cosine mean %.5f p1 %.4f p5 %.4f below 0.98 %.3f%n",
        corpus,
        w.path("drift_share").asDouble(),
        w.path("overflow").path("rate").asDouble(),
        q.path("cosine_mean").asDouble(),
        q.path("cosine_p1").asDouble(),
        q.path("cosine_p5").asDouble(),
        q.path("cosine_below_0_98").asDouble());
  }

  private static double mean(List<JsonNode> ws, ToDoubleFunction<JsonNode> f) {
    return ws.stream().mapToDouble(f).average().orElseThrow();
  }

  private static double min(List<JsonNode> ws, ToDoubleFunction<JsonNode> f) {
    return ws.stream().mapToDouble(f).min().orElseThrow();
  }

  private static double max(List<JsonNode> ws, ToDoubleFunction<JsonNode> f) {
    return ws.stream().mapToDouble(f).max().orElseThrow();
  }
}

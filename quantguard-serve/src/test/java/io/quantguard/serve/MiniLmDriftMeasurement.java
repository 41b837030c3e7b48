package io.quantguard.serve;

import static io.quantguard.serve.MiniLmShadowStream.feature;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * all-MiniLM-L6-v2 static int8 ({@code recipes/minilm-static-int8.yaml}, or the recipe named by
 * {@code -Dquantguard.drift.recipe}, 500 English Europarl calibration texts) in shadow against FP32
 * inside the server ({@link MiniLmShadowStream}, profile of 300 other English Europarl texts), on a
 * stream that switches from English Europarl to technical English: four windows of each ({@code
 * -Dquantguard.drift.window} texts, 60 by default), one text per request, every request through the
 * overflow probe. Prints per window the drift, the overflow rate, the live cosine's mean and tail,
 * the overflow per tensor on each corpus, the attribution and the rollout's decision on the whole
 * stream. A measurement, not a test: it runs only with {@code -Dquantguard.measure=true}.
 */
class MiniLmDriftMeasurement {
  static final int WINDOWS_EACH = 4;
  private static final Pattern TENSOR_RATE =
      Pattern.compile("quantguard_overflow_tensor_rate\\{[^}]*tensor=\"([^\"]+)\"[^}]*} (\\S+)");

  @Test
  void aSwitchToTechnicalEnglishShowsInTheServer() throws Exception {
    assumeTrue(Boolean.getBoolean("quantguard.measure"), "run with -Dquantguard.measure=true");
    // -Dquantguard.drift.recipe=minilm-all-int8 measures the recipe that also quantizes the FFN
    // down-projections.
    String recipe = System.getProperty("quantguard.drift.recipe", "minilm-static-int8");
    int size = Integer.getInteger("quantguard.drift.window", 60);
    long t0 = System.nanoTime();
    try (MiniLmShadowStream s =
        new MiniLmShadowStream(
            Path.of("target", "minilm-drift"),
            recipe,
            "&limit=500",
            "&offset=500&limit=300",
            "name: live-minilm\nrules:\n  cosine_p1: {min: 0.99}\n"
                + "  cosine_below_0_98: {max: 0.5%}\n")) {
      System.out.printf(
          Locale.ROOT,
          "%s: int8, profile and server ready in %.0f s%n",
          recipe,
          (System.nanoTime() - t0) / 1e9);
      System.out.println(
          "| window | corpus | samples | drifted share | tokens PSI | norm PSI | overflow rate |"
              + " cosine mean | p1 | p5 | below 0.98 |");
      System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
      // per tensor, the overflow rate averaged over each corpus' windows
      Map<String, double[]> perTensor = new TreeMap<>();
      for (int w = 0; w < 2 * WINDOWS_EACH; w++) {
        boolean tech = w >= WINDOWS_EACH;
        int k = w % WINDOWS_EACH;
        JsonNode window =
            s.window(
                tech
                    ? s.technical + "&offset=" + (k * size) + "&limit=" + size
                    : MiniLmShadowStream.EUROPARL
                        + "&offset="
                        + (800 + k * size)
                        + "&limit="
                        + size);
        JsonNode q = window.path("quality");
        System.out.printf(
            Locale.ROOT,
            "| %d | %s | %d | %.2f | %.3f | %.3f | %.3g | %.5f | %.4f | %.4f | %.1f %% |%n",
            w,
            tech ? "technical" : "Europarl",
            window.path("samples").asLong(),
            window.path("drift_share").asDouble(),
            feature(window, "input_ids:tokens").path("psi").asDouble(),
            feature(window, "last_hidden_state:norm").path("psi").asDouble(),
            window.path("overflow").path("rate").asDouble(),
            q.path("cosine_mean").asDouble(),
            q.path("cosine_p1").asDouble(),
            q.path("cosine_p5").asDouble(),
            100 * q.path("cosine_below_0_98").asDouble());
        Matcher m = TENSOR_RATE.matcher(Http.get(s.server.url() + "/metrics").text());
        while (m.find()) {
          double rate = Double.parseDouble(m.group(2));
          if (Double.isFinite(rate)) {
            perTensor.computeIfAbsent(m.group(1), x -> new double[2])[tech ? 1 : 0] +=
                rate / WINDOWS_EACH;
          }
        }
      }
      System.out.printf(
          Locale.ROOT,
          "%noverflow per tensor (%d tensors), mean over each corpus' windows, largest technical"
              + " rate first:%n",
          perTensor.size());
      perTensor.entrySet().stream()
          .sorted((a, b) -> Double.compare(b.getValue()[1], a.getValue()[1]))
          .limit(12)
          .forEach(
              e ->
                  System.out.printf(
                      Locale.ROOT,
                      "  %-58s Europarl %.3g  technical %.3g  (x%.1f)%n",
                      e.getKey(),
                      e.getValue()[0],
                      e.getValue()[1],
                      e.getValue()[1] / e.getValue()[0]));
      JsonNode a = s.drift().path("attribution");
      System.out.println(
          "\nattribution (" + a.path("quality").asText() + "): " + a.path("summary").asText());
      int shown = 0;
      for (JsonNode r : a.path("ranked")) {
        if (shown++ == 15) {
          break;
        }
        System.out.printf(
            Locale.ROOT,
            "  rank %d (%d tied) %+.3f %s %s%n",
            r.path("rank").asInt(),
            r.path("tied").asInt(),
            r.path("association").asDouble(),
            r.path("kind").asText(),
            r.path("series").asText());
      }
      RolloutDecision d = s.rollout.analyze();
      System.out.println("rollout on the whole stream: " + d.decision() + ": " + d.reason());
      System.out.printf(Locale.ROOT, "total %.0f s%n", (System.nanoTime() - t0) / 1e9);
    }
  }
}

package io.quantguard.evaluate.drift;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.evaluate.task.Embeddings;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.TechnicalEnglish;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.report.CalibrationCoverage;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * all-MiniLM-L6-v2 static int8 ({@code recipes/minilm-static-int8.yaml}, 500 Europarl calibration
 * texts) watched on windows that mix Europarl with technical English ({@link TechnicalEnglish}):
 * per window the drift of every profile feature against a Europarl profile, the calibration-range
 * overflow rate, and the live cosine of the int8 embeddings to FP32's; then which drift series
 * track the cosine's fall. A measurement, not a test: it runs only with {@code
 * -Dquantguard.measure=true} and prints the figures ({@code -Dquantguard.minilm.int8=FILE} reuses a
 * quantized model).
 */
class MiniLmShiftMeasurement {
  static final String EUROPARL = "text:europarl?tokenizer=minilm-tokenizer&column=3&max_length=128";
  static final int WINDOW = 120;
  static final double[] SHARES = {0, 0.2, 0.4, 0.6, 0.8, 1.0};

  @Test
  void technicalEnglishShowsInDriftOverflowAndCosine() throws Exception {
    assumeTrue(Boolean.getBoolean("quantguard.measure"), "run with -Dquantguard.measure=true");
    Path dir = Files.createDirectories(Path.of("target", "minilm-shift"));
    Path fp32 = TestModels.miniLm();
    Path int8 = int8(dir);
    Path tech = TechnicalEnglish.write(dir.resolve("technical-english.txt"), 2000);
    String technical = TechnicalEnglish.miniLmData(tech);
    long unk =
        new ObjectMapper()
            .readTree(TestModels.miniLmTokenizer().toFile())
            .path("model")
            .path("vocab")
            .path("[UNK]")
            .asLong();
    long t0 = System.nanoTime();
    ReferenceProfile profile =
        ReferenceProfile.builder()
            .model(fp32)
            .data(DataSpec.parse(EUROPARL + "&offset=500&limit=1000"))
            .unknownTokenId(unk)
            .batchSize(32)
            .build();
    profile.write(dir.resolve("profile.json"));
    System.out.printf(
        Locale.ROOT,
        "profile: %d Europarl texts, %d features, %.1f s, %d bytes of JSON; [UNK] = %d%n",
        profile.samples(),
        profile.features().size(),
        (System.nanoTime() - t0) / 1e9,
        Files.size(dir.resolve("profile.json")),
        unk);
    CalibrationRanges ranges = CalibrationRanges.of(ModelIO.load(int8));
    List<DriftResult> drift = new ArrayList<>();
    List<OverflowMeter> overflow = new ArrayList<>();
    double[] cosine = new double[SHARES.length];
    double[] cosineP05 = new double[SHARES.length];
    List<double[]> perSample = new ArrayList<>(); // cosine, clipped share, tokens
    try (InferenceSession a = InferenceSession.open(fp32, SessionConfig.defaults());
        InferenceSession b = InferenceSession.open(int8, SessionConfig.defaults());
        OverflowProbe probe = OverflowProbe.open(fp32, ranges, SessionConfig.defaults())) {
      System.out.printf(
          "%d calibrated activation tensors, %d matched in FP32, unmatched %s%n",
          ranges.ranges().size(), probe.ranges().ranges().size(), probe.unmatched());
      for (int k = 0; k < SHARES.length; k++) {
        int techCount = (int) Math.round(SHARES[k] * WINDOW);
        DriftWindow w = profile.newWindow();
        OverflowMeter m = new OverflowMeter(probe.ranges(), 3);
        List<double[]> samples = new ArrayList<>();
        feed(
            EUROPARL + "&offset=" + (1500 + k * WINDOW) + "&limit=" + (WINDOW - techCount),
            "europarl",
            a,
            b,
            probe,
            w,
            m,
            samples);
        feed(
            technical + "&offset=" + (k * WINDOW) + "&limit=" + techCount,
            "technical",
            a,
            b,
            probe,
            w,
            m,
            samples);
        drift.add(w.result());
        overflow.add(m);
        double[] c = samples.stream().mapToDouble(x -> x[0]).sorted().toArray();
        cosine[k] = java.util.Arrays.stream(c).average().orElseThrow();
        cosineP05[k] = c[(int) (0.05 * c.length)];
        perSample.addAll(samples);
      }
    }
    System.out.println();
    StringBuilder head = new StringBuilder(String.format("%-34s", "window (technical share)"));
    for (double s : SHARES) {
      head.append(String.format(Locale.ROOT, "%10.0f%%", s * 100));
    }
    System.out.println(head);
    row("live cosine int8 vs FP32", cosine, "%11.5f");
    row("live cosine, 5th percentile", cosineP05, "%11.5f");
    row("overflow rate (all tensors)", series(overflow, m -> m.rate()), "%11.3g");
    row(
        "drifted share of features",
        drift.stream().mapToDouble(DriftResult::driftedShare).toArray(),
        "%11.2f");
    for (Feature f : profile.features()) {
      row(f.name() + " PSI", featureSeries(drift, f.name(), d -> d.psi()), "%11.3f");
      row(
          f.name() + " " + drift.get(0).feature(f.name()).orElseThrow().method(),
          featureSeries(drift, f.name(), d -> d.score()),
          "%11.3g");
    }
    Map<String, double[]> series = new LinkedHashMap<>();
    for (Feature f : profile.features()) {
      series.put(
          "drift " + f.name(), featureSeries(drift, f.name(), DriftResult.FeatureDrift::magnitude));
    }
    series.put("overflow (all tensors)", series(overflow, OverflowMeter::rate));
    CalibrationCoverage.Slice last = overflow.get(SHARES.length - 1).result("all");
    for (CalibrationCoverage.TensorOverflow t : last.tensors().subList(0, 5)) {
      double[] s = new double[SHARES.length];
      for (int k = 0; k < s.length; k++) {
        s[k] =
            overflow.get(k).result("all").tensors().stream()
                .filter(x -> x.tensor().equals(t.tensor()))
                .findFirst()
                .orElseThrow()
                .rate();
      }
      series.put("overflow " + t.tensor(), s);
      row("overflow " + t.tensor(), s, "%11.3g");
    }
    System.out.println(
        "\nattribution (Spearman over windows, + = rises as the live cosine falls):");
    for (Attribution.Ranked r : Attribution.rank(cosine, true, series)) {
      System.out.printf(Locale.ROOT, "  %+.3f  %s%n", r.association(), r.name());
    }
    System.out.printf(
        Locale.ROOT,
        "%nper sample (%d): Spearman of cosine with clipped share %+.3f, with tokens %+.3f%n",
        perSample.size(),
        Attribution.spearman(perSample.stream().map(x -> new double[] {x[0], x[1]}).toList()),
        Attribution.spearman(perSample.stream().map(x -> new double[] {x[0], x[2]}).toList()));
    System.out.println("\nworst clipping samples of the all-technical window:");
    printWorst(last);
    System.out.println("europarl-only window worst samples:");
    printWorst(overflow.get(0).result("all"));
  }

  private static void printWorst(CalibrationCoverage.Slice slice) {
    for (CalibrationCoverage.ClippingSample s : slice.worstSamples()) {
      System.out.printf(
          Locale.ROOT, "  %.4f %s %s | %s%n", s.rate(), s.sample(), s.worstTensor(), s.detail());
    }
  }

  private static Path int8(Path dir) {
    String given = System.getProperty("quantguard.minilm.int8");
    if (given != null) {
      return Path.of(given);
    }
    Path out = dir.resolve("minilm-int8.onnx");
    if (!Files.exists(out)) {
      Path recipe = Path.of("..", "recipes", "minilm-static-int8.yaml");
      ModelIO.save(
          Quantizer.quantize(
                  ModelIO.load(TestModels.miniLm()),
                  RecipeIO.read(recipe),
                  DataSpec.parse(EUROPARL + "&limit=500"),
                  Quantizer.Options.defaults())
              .model(),
          out);
    }
    return out;
  }

  /** Adds a data set to the window; per sample: cosine int8 vs FP32, clipped share, tokens. */
  private static void feed(
      String spec,
      String name,
      InferenceSession fp32,
      InferenceSession int8,
      OverflowProbe probe,
      DriftWindow w,
      OverflowMeter m,
      List<double[]> samples) {
    if (spec.endsWith("&limit=0")) {
      return;
    }
    try (BatchStream s = DataSpec.parse(spec).open(32)) {
      while (s.hasNext()) {
        Batch batch = s.next();
        Map<String, Tensor> a = fp32.run(batch.inputs());
        Map<String, Tensor> b = int8.run(batch.inputs());
        w.add(batch, a);
        List<OverflowMeter.Sample> ids = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
          String text = batch.attributes().get(i).get("text");
          ids.add(
              new OverflowMeter.Sample(
                  name + "#" + (batch.offset() + i),
                  text.substring(0, Math.min(60, text.length()))));
        }
        OverflowCounts counts = probe.count(batch.inputs());
        m.add(counts, ids);
        Embeddings ea =
            FeatureExtractor.pool(a.get("last_hidden_state"), "a", batch.inputs(), true);
        Embeddings eb =
            FeatureExtractor.pool(b.get("last_hidden_state"), "b", batch.inputs(), true);
        for (int r = 0; r < ea.rows(); r++) {
          double dot = 0;
          for (int d = 0; d < ea.dim(); d++) {
            dot += ea.vectors()[ea.at(r) + d] * eb.vectors()[eb.at(r) + d];
          }
          long values = 0;
          long clipped = 0;
          for (OverflowCounts.TensorCounts t : counts.tensors()) {
            values += t.values()[r];
            clipped += t.below()[r] + t.above()[r];
          }
          samples.add(
              new double[] {
                dot,
                (double) clipped / values,
                Double.parseDouble(batch.attributes().get(r).get("tokens"))
              });
        }
      }
    }
  }

  private static double[] series(
      List<OverflowMeter> meters, java.util.function.ToDoubleFunction<OverflowMeter> f) {
    return meters.stream().mapToDouble(f).toArray();
  }

  private static double[] featureSeries(
      List<DriftResult> drift,
      String feature,
      java.util.function.Function<DriftResult.FeatureDrift, Double> f) {
    return drift.stream()
        .mapToDouble(
            d -> {
              Double v = f.apply(d.feature(feature).orElseThrow());
              return v == null ? Double.NaN : v;
            })
        .toArray();
  }

  private static void row(String name, double[] values, String format) {
    StringBuilder b = new StringBuilder(String.format("%-34s", name));
    for (double v : values) {
      b.append(String.format(Locale.ROOT, format, v));
    }
    System.out.println(b);
  }
}

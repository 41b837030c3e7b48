package io.quantguard.quantize;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.TestModels;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSource;
import io.quantguard.runtime.data.DataSpec;
import io.quantguard.runtime.data.Prefetch;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * Measures (does not assert) what calibration costs next to one plain FP32 inference pass over the
 * same 1,000 Europarl texts, in the same JVM, alternating the two. Opt-in, since it takes minutes:
 * {@code mvn -pl quantguard-quantize test -Dtest=CalibrationOverheadMeasurement
 * -Dquantguard.measure=true} (add {@code -DargLine=-Xmx1g} to show it fits a 1 GB heap).
 */
class CalibrationOverheadMeasurement {
  @Test
  void calibrationAgainstPlainInference() {
    assumeTrue(
        Boolean.getBoolean("quantguard.measure"), "opt-in measurement (-Dquantguard.measure=true)");
    int samples = Integer.getInteger("quantguard.measure.samples", 1000);
    DataSource data =
        DataSpec.parse(
            "text:europarl?tokenizer=minilm-tokenizer&column=3&max_length=128&limit=" + samples);
    Recipe recipe =
        RecipeIO.read(Path.of("..", "recipes", "minilm-static-int8.yaml"))
            .withCalibration(new Recipe.Calibration(samples, 32));
    for (int round = 0; round < 2; round++) {
      long t0 = System.nanoTime();
      long seen = 0;
      try (InferenceSession s =
              InferenceSession.open(TestModels.miniLm(), SessionConfig.defaults());
          BatchStream b = Prefetch.of(data.open(32), 2)) {
        while (b.hasNext()) {
          Batch x = b.next();
          s.run(x.inputs());
          seen += x.size();
        }
      }
      double plain = (System.nanoTime() - t0) / 1e9;
      QuantizationResult q =
          Quantizer.quantize(
              ModelIO.load(TestModels.miniLm()),
              recipe,
              data,
              Quantizer.Options.defaults("measure"));
      double calibration = q.report().calibrationSeconds();
      System.out.printf(
          Locale.ROOT,
          "round %d, %d samples: plain FP32 pass %.1f s, calibration pass %.1f s, ratio %.2f, max heap %d MB%n",
          round,
          seen,
          plain,
          calibration,
          calibration / plain,
          Runtime.getRuntime().maxMemory() >> 20);
    }
  }
}

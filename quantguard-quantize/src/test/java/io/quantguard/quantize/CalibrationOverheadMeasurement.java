package io.quantguard.quantize;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
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
        Recipe.builder()
            .calibration(Recipe.Calibration.builder().samples(samples).batchSize(32).build())
            .build()
            .over(RecipeIO.read(Path.of("..", "recipes", "minilm-static-int8.yaml")));
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
              ModelIO.load(TestModels.miniLm()), recipe, data, Quantizer.Options.defaults());
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

  /**
   * What collecting per-channel statistics (min, max, sum of the inputs of every static MatMul: 24
   * tensors on MiniLM) adds to a calibration pass over 200 texts: alternating rounds, wall and
   * process CPU time. {@code -Dquantguard.measure=true} as above.
   */
  @Test
  void channelStatisticsOverhead() {
    assumeTrue(
        Boolean.getBoolean("quantguard.measure"), "opt-in measurement (-Dquantguard.measure=true)");
    int samples = Integer.getInteger("quantguard.measure.samples", 200);
    DataSource data =
        DataSpec.parse(
            "text:europarl?tokenizer=minilm-tokenizer&column=3&max_length=128&limit=" + samples);
    OnnxModel fp32 = ModelIO.load(TestModels.miniLm());
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    double[][] wall = new double[2][];
    double[][] cpu = new double[2][];
    int rounds = 4;
    for (int c = 0; c < 2; c++) {
      wall[c] = new double[rounds];
      cpu[c] = new double[rounds];
    }
    for (int round = 0; round < rounds; round++) {
      for (int c = 0; c < 2; c++) {
        Recipe recipe =
            RecipeIO.parse(
                "op_types: [MatMul, Gather]\ncalibration: {samples: "
                    + samples
                    + ", channels: "
                    + (c == 1)
                    + "}",
                "r");
        long cpu0 = os.getProcessCpuTime();
        Calibration cal = Quantizer.calibrate(fp32, recipe, data, Quantizer.Options.defaults());
        wall[c][round] = cal.result().nanos() / 1e9;
        cpu[c][round] = (os.getProcessCpuTime() - cpu0) / 1e9;
        System.out.printf(
            Locale.ROOT,
            "round %d, channels %s (%d tensors): pass %.2f s, process CPU %.2f s%n",
            round,
            c == 1,
            cal.result().channels().size(),
            wall[c][round],
            cpu[c][round]);
      }
    }
    System.out.printf(
        Locale.ROOT,
        "median: pass %.2f s -> %.2f s (%+.1f %%), CPU %.2f s -> %.2f s (%+.1f %%)%n",
        median(wall[0]),
        median(wall[1]),
        100 * (median(wall[1]) / median(wall[0]) - 1),
        median(cpu[0]),
        median(cpu[1]),
        100 * (median(cpu[1]) / median(cpu[0]) - 1));
  }

  private static double median(double[] x) {
    double[] s = x.clone();
    java.util.Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }
}

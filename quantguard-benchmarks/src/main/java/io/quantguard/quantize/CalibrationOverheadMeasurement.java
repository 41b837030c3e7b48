package io.quantguard.quantize;

import io.quantguard.benchmarks.Rounds;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.ResourceLocator;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSource;
import io.quantguard.runtime.data.DataSpec;
import io.quantguard.runtime.data.Prefetch;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * Measures (does not assert) what calibrating all-MiniLM-L6-v2 on Europarl texts costs. Two
 * measurements, chosen by the first argument:
 *
 * <ul>
 *   <li>{@code plain [SAMPLES=1000]}: the calibration pass of the shipped static recipe next to one
 *       plain FP32 inference pass over the same texts, in the same JVM, two alternating rounds (add
 *       {@code -Xmx1g} to the JVM to show it fits a 1 GB heap);
 *   <li>{@code channels [SAMPLES=200]}: what collecting per-channel statistics (min, max, sum of
 *       the inputs of every static MatMul: 24 tensors on MiniLM) adds to a calibration pass, four
 *       alternating rounds, wall and process CPU time.
 * </ul>
 *
 * Run from the repository root with {@code quantguard-benchmarks/measure calibration ARGS}.
 */
public final class CalibrationOverheadMeasurement {
  private CalibrationOverheadMeasurement() {}

  public static void main(String[] args) {
    String which = args.length > 0 ? args[0] : "plain";
    switch (which) {
      case "plain" -> calibrationAgainstPlainInference(samples(args, 1000));
      case "channels" -> channelStatisticsOverhead(samples(args, 200));
      default ->
          throw new IllegalArgumentException(
              "the first argument is plain or channels, not '" + which + "'");
    }
  }

  private static int samples(String[] args, int fallback) {
    return args.length > 1 ? Integer.parseInt(args[1]) : fallback;
  }

  private static DataSource europarl(int samples) {
    return DataSpec.parse(
        "text:europarl?tokenizer=minilm-tokenizer&column=3&max_length=128&limit=" + samples);
  }

  static void calibrationAgainstPlainInference(int samples) {
    DataSource data = europarl(samples);
    Path miniLm = ResourceLocator.resolve("minilm");
    Recipe recipe =
        RecipeIO.read(Path.of("recipes", "minilm-static-int8.yaml")).toBuilder()
            .calibration(Recipe.Calibration.builder().samples(samples).batchSize(32).build())
            .build();
    for (int round = 0; round < 2; round++) {
      long t0 = System.nanoTime();
      long seen = 0;
      try (InferenceSession s = InferenceSession.open(miniLm, SessionConfig.defaults());
          BatchStream b = Prefetch.of(data.open(32), 2)) {
        while (b.hasNext()) {
          Batch x = b.next();
          s.run(x.inputs());
          seen += x.size();
        }
      }
      double plain = (System.nanoTime() - t0) / 1e9;
      QuantizationResult q =
          Quantizer.quantize(ModelIO.load(miniLm), recipe, data, Quantizer.Options.defaults());
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

  static void channelStatisticsOverhead(int samples) {
    DataSource data = europarl(samples);
    OnnxModel fp32 = ModelIO.load(ResourceLocator.resolve("minilm"));
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    int rounds = 4;
    double[][] wall = new double[2][rounds];
    double[][] cpu = new double[2][rounds];
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
        ActivationCalibration.Result cal =
            Objects.requireNonNull(
                Quantizer.calibrate(fp32, recipe, data, Quantizer.Options.defaults()).result(),
                "a calibration with data has a result");
        wall[c][round] = cal.nanos() / 1e9;
        cpu[c][round] = (os.getProcessCpuTime() - cpu0) / 1e9;
        System.out.printf(
            Locale.ROOT,
            "round %d, channels %s (%d tensors): pass %.2f s, process CPU %.2f s%n",
            round,
            c == 1,
            cal.channels().size(),
            wall[c][round],
            cpu[c][round]);
      }
    }
    System.out.printf(
        Locale.ROOT,
        "median: pass %.2f s -> %.2f s (%+.1f %%), CPU %.2f s -> %.2f s (%+.1f %%)%n",
        Rounds.median(wall[0]),
        Rounds.median(wall[1]),
        100 * (Rounds.median(wall[1]) / Rounds.median(wall[0]) - 1),
        Rounds.median(cpu[0]),
        Rounds.median(cpu[1]),
        100 * (Rounds.median(cpu[1]) / Rounds.median(cpu[0]) - 1));
  }
}

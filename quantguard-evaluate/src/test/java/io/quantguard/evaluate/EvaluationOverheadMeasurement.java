package io.quantguard.evaluate;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.quantguard.onnx.TestModels;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.ReportWriter;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * What a full evaluation costs compared with just running the models: the 10,000 Fashion-MNIST test
 * images through the baseline, itself again and a perturbed candidate, once as a plain loop (read
 * batches, run every session on each) and once as {@link Evaluation#run} with label slices plus
 * writing the three reports. A measurement, not a test: it runs only with {@code
 * -Dquantguard.measure=true} and prints the figures (speed is not asserted in unit tests).
 */
class EvaluationOverheadMeasurement {
  @Test
  void evaluationCostsAboutAsMuchAsRunningTheModels() throws Exception {
    assumeTrue(Boolean.getBoolean("quantguard.measure"), "run with -Dquantguard.measure=true");
    Path cnn = TestModels.fashionCnn();
    Path images = TestModels.fashionMnist("t10k-images-idx3-ubyte.gz");
    Path dir = Files.createDirectories(Path.of("target", "evaluate-overhead"));
    Path noisy = CnnVariants.noisy(cnn, dir.resolve("cnn-noisy.onnx"), 0.5, 7);
    List<Path> models = List.of(cnn, cnn, noisy);
    String spec = "idx:" + images + "?input=image";
    int rounds = Integer.getInteger("quantguard.measure.rounds", 5);
    double[] plain = new double[rounds];
    double[] sessionsOnly = new double[rounds];
    double[] evaluate = new double[rounds];
    double[] evaluateAndWrite = new double[rounds];
    double[] ratio = new double[rounds];
    double[] plainCpu = new double[rounds];
    double[] evaluateCpu = new double[rounds];
    plainLoop(models, spec, new double[1]); // JIT warm-up of both paths
    evaluation(models, spec, dir);
    for (int r = 0; r < rounds; r++) {
      long c0 = ProcessStats.cpuNanos();
      long t0 = System.nanoTime();
      double[] runs = new double[1];
      plainLoop(models, spec, runs);
      plain[r] = (System.nanoTime() - t0) / 1e9;
      plainCpu[r] = (ProcessStats.cpuNanos() - c0) / 1e9;
      sessionsOnly[r] = runs[0];
      c0 = ProcessStats.cpuNanos();
      t0 = System.nanoTime();
      EvaluationReport report = evaluation(models, spec, dir);
      evaluate[r] = (System.nanoTime() - t0) / 1e9;
      evaluateCpu[r] = (ProcessStats.cpuNanos() - c0) / 1e9;
      ReportWriter.write(report, dir);
      evaluateAndWrite[r] = (System.nanoTime() - t0) / 1e9;
      ratio[r] = evaluate[r] / plain[r];
    }
    System.out.printf(
        Locale.ROOT,
        "10,000 images × 3 models, median of %d rounds:%n"
            + "  session.run time only        %.3f s%n"
            + "  plain loop (read + run)      %.3f s%n"
            + "  Evaluation.run               %.3f s  (×%.2f of the plain loop, ×%.2f of session time)%n"
            + "  Evaluation.run + 3 reports   %.3f s  (×%.2f of the plain loop)%n"
            + "  per-round ratio evaluate / plain: median ×%.2f, all %s%n"
            + "  process CPU: plain %.2f s, evaluate %.2f s (×%.2f)%n",
        rounds,
        median(sessionsOnly),
        median(plain),
        median(evaluate),
        median(evaluate) / median(plain),
        median(evaluate) / median(sessionsOnly),
        median(evaluateAndWrite),
        median(evaluateAndWrite) / median(plain),
        median(ratio),
        Arrays.toString(Arrays.stream(ratio).map(x -> Math.round(x * 100) / 100.0).toArray()),
        median(plainCpu),
        median(evaluateCpu),
        median(evaluateCpu) / median(plainCpu));
  }

  /** Read every batch and run every model on it, nothing else; accumulates session.run seconds. */
  private static void plainLoop(List<Path> models, String spec, double[] runSeconds) {
    List<InferenceSession> sessions = new ArrayList<>();
    try {
      for (Path m : models) {
        sessions.add(InferenceSession.open(m, SessionConfig.defaults()));
      }
      try (BatchStream s = DataSpec.parse(spec).open(64)) {
        while (s.hasNext()) {
          Batch b = s.next();
          for (InferenceSession session : sessions) {
            long t0 = System.nanoTime();
            session.run(b.inputs());
            runSeconds[0] += (System.nanoTime() - t0) / 1e9;
          }
        }
      }
    } finally {
      sessions.forEach(InferenceSession::close);
    }
  }

  private static EvaluationReport evaluation(List<Path> models, String spec, Path dir) {
    return Evaluation.builder()
        .baseline("fp32", models.get(0))
        .candidate("fp32-again", models.get(1))
        .candidate("noisy-fc", models.get(2))
        .task(Tasks.parse("classification"))
        .data("fashion-test", DataSpec.parse(spec))
        .sliceBy(Slicer.parse("label"))
        .build()
        .run();
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }
}

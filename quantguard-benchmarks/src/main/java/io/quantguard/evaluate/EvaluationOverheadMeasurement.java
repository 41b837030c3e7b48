package io.quantguard.evaluate;

import io.quantguard.benchmarks.Rounds;
import io.quantguard.onnx.ModelIO;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
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

/**
 * What a full evaluation costs compared with just running the models: the 10,000 Fashion-MNIST test
 * images through the CNN, the CNN again and its static int8 candidate (default recipe, calibrated
 * on 500 training images), once as a plain loop (read batches, run every session on each) and once
 * as {@link Evaluation#run} with label slices plus writing the three reports. Prints the figures;
 * speed is not asserted anywhere.
 *
 * <p>Arguments: {@code [FIXTURES=../shared/fixtures] [ROUNDS=5]}, where FIXTURES holds {@code
 * fashion_cnn_fp32.onnx} and {@code fashion-mnist/}. Run from the repository root with {@code
 * quantguard-benchmarks/measure evaluation ARGS}.
 */
public final class EvaluationOverheadMeasurement {
  private EvaluationOverheadMeasurement() {}

  public static void main(String[] args) {
    Path fixtures = Path.of(args.length > 0 ? args[0] : "../shared/fixtures");
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    Path cnn = fixtures.resolve("fashion_cnn_fp32.onnx");
    Path images = fixtures.resolve("fashion-mnist/t10k-images-idx3-ubyte.gz");
    Path train = fixtures.resolve("fashion-mnist/train-images-idx3-ubyte.gz");
    for (Path p : List.of(cnn, images, train)) {
      if (!Files.isRegularFile(p)) {
        throw new IllegalArgumentException(p + " is missing; give the fixtures directory");
      }
    }
    Path dir = Path.of("target", "evaluate-overhead");
    Path int8 = dir.resolve("cnn-int8.onnx");
    try {
      Files.createDirectories(dir);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    ModelIO.save(
        Quantizer.quantize(
                ModelIO.load(cnn),
                Recipe.defaults(),
                DataSpec.parse("idx:" + train + "?input=image&limit=500"),
                Quantizer.Options.defaults())
            .model(),
        int8);
    List<Path> models = List.of(cnn, cnn, int8);
    String spec = "idx:" + images + "?input=image";
    double[] plain = new double[rounds];
    double[] sessionsOnly = new double[rounds];
    double[] evaluate = new double[rounds];
    double[] evaluateAndWrite = new double[rounds];
    double[] ratio = new double[rounds];
    double[] plainCpu = new double[rounds];
    double[] evaluateCpu = new double[rounds];
    plainLoop(models, spec, new double[1]); // JIT warm-up of both paths
    evaluation(models, spec);
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
      EvaluationReport report = evaluation(models, spec);
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
        Rounds.median(sessionsOnly),
        Rounds.median(plain),
        Rounds.median(evaluate),
        Rounds.median(evaluate) / Rounds.median(plain),
        Rounds.median(evaluate) / Rounds.median(sessionsOnly),
        Rounds.median(evaluateAndWrite),
        Rounds.median(evaluateAndWrite) / Rounds.median(plain),
        Rounds.median(ratio),
        Arrays.toString(Arrays.stream(ratio).map(x -> Math.round(x * 100) / 100.0).toArray()),
        Rounds.median(plainCpu),
        Rounds.median(evaluateCpu),
        Rounds.median(evaluateCpu) / Rounds.median(plainCpu));
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

  private static EvaluationReport evaluation(List<Path> models, String spec) {
    return Evaluation.builder()
        .baseline("fp32", models.get(0))
        .candidate("fp32-again", models.get(1))
        .candidate("static-int8", models.get(2))
        .task(Tasks.parse("classification"))
        .data("fashion-test", DataSpec.parse(spec))
        .sliceBy(Slicer.parse("label"))
        .build()
        .run();
  }
}

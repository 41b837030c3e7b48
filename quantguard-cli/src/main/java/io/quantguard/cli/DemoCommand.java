package io.quantguard.cli;

import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.Evaluation;
import io.quantguard.evaluate.Slicer;
import io.quantguard.evaluate.Tasks;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.quantize.QuantizationResult;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.ReportWriter;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.ResourceLocator;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.DataSpec;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code quantguard demo}: the whole story on real artifacts from Maven Central, needing nothing
 * but the build. all-MiniLM-L6-v2 is quantized two ways (static int8 with the shipped recipe,
 * calibrated on Europarl; dynamic int8), then both are evaluated against FP32 and against ONNX
 * Runtime's own dynamically quantized peer on other Europarl sessions: embedding agreement per
 * input length, and title → body retrieval, with HTML, Markdown and JSON reports.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description =
        "Quantize all-MiniLM-L6-v2 and evaluate it against FP32 and ONNX Runtime's quantized peer.")
final class DemoCommand implements Callable<Integer> {
  @Option(
      names = "--out",
      defaultValue = "quantguard-out/demo",
      description = "output directory (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(
      names = "--samples",
      defaultValue = "500",
      description = "calibration and evaluation texts each (default: ${DEFAULT-VALUE})")
  int samples;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  private static String europarl(int column, int offset, int limit) {
    return "text:europarl?tokenizer=minilm-tokenizer&column="
        + column
        + "&max_length=128&offset="
        + offset
        + "&limit="
        + limit;
  }

  @Override
  public Integer call() {
    PrintWriter w = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    long start = System.nanoTime();
    OnnxModel fp32 = ModelIO.load(ResourceLocator.resolve("minilm"));
    Progress progress = TerminalProgress.forTerminal(err, false);

    w.println(
        "1/4  static int8 (recipes/minilm-static-int8.yaml), calibrated on "
            + samples
            + " Europarl sessions");
    Recipe staticRecipe =
        RecipeIO.read(ResourceLocator.resolve("classpath:recipes/minilm-static-int8.yaml"));
    Quantizer.Options options = new Quantizer.Options(SessionConfig.defaults(), progress);
    QuantizationResult s =
        Quantizer.quantize(fp32, staticRecipe, DataSpec.parse(europarl(3, 0, samples)), options);
    finish(progress);
    Path staticModel = out.resolve("minilm-static-int8.onnx");
    ModelIO.save(s.model(), staticModel);

    w.println("2/4  dynamic int8");
    QuantizationResult d =
        Quantizer.quantize(fp32, RecipeIO.parse("mode: dynamic", "dynamic"), null, options);
    Path dynamicModel = out.resolve("minilm-dynamic-int8.onnx");
    ModelIO.save(d.model(), dynamicModel);

    w.println(
        "3/4  embedding agreement on "
            + samples
            + " other sessions (FP32 vs static, dynamic, ONNX Runtime's -q peer)");
    EvaluationReport embedding =
        evaluation(staticModel, dynamicModel, progress)
            .task(Tasks.parse("embedding"), "embedding")
            .data("europarl", DataSpec.parse(europarl(3, samples, samples)))
            .sliceBy(Slicer.parse("tokens=32,64,96"))
            .build()
            .run();
    finish(progress);
    ReportWriter.write(embedding, out.resolve("embedding"));

    w.println("4/4  title -> session retrieval on the same sessions");
    EvaluationReport retrieval =
        evaluation(staticModel, dynamicModel, progress)
            .task(Tasks.parse("retrieval?k=10"), "retrieval?k=10")
            .data("queries", DataSpec.parse(europarl(1, samples, samples)))
            .data("corpus", DataSpec.parse(europarl(3, samples, samples)))
            .build()
            .run();
    finish(progress);
    ReportWriter.write(retrieval, out.resolve("retrieval"));

    w.println();
    w.print(ReportWriter.summary(embedding));
    w.println();
    w.print(ReportWriter.summary(retrieval));
    w.println();
    for (String r : List.of("embedding", "retrieval")) {
      w.println("Report      " + out.resolve(r).resolve("report.html"));
    }
    w.printf(Locale.ROOT, "Done in %.0f s%n", (System.nanoTime() - start) / 1e9);
    return ExitCodes.OK;
  }

  private Evaluation.Builder evaluation(Path staticModel, Path dynamicModel, Progress progress) {
    return Evaluation.builder()
        .baseline("fp32", ResourceLocator.resolve("minilm"))
        .candidate("static-int8", staticModel)
        .candidate("dynamic-int8", dynamicModel)
        .candidate("onnxruntime-q", ResourceLocator.resolve("minilm-q"))
        .batchSize(32)
        .session(SessionConfig.defaults())
        .bootstrap(new Bootstrap(1000, 0.95, 42))
        .progress(progress);
  }

  private static void finish(Progress p) {
    if (p instanceof TerminalProgress t) {
      t.finish();
    }
  }
}

package io.quantguard.cli;

import io.quantguard.evaluate.Evaluation;
import io.quantguard.evaluate.NamedData;
import io.quantguard.evaluate.Slicer;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.report.Policy;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.ResourceLocator;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.DataSpec;
import io.quantguard.tune.Decision;
import io.quantguard.tune.FallbackPrecision;
import io.quantguard.tune.TrainingOutcome;
import io.quantguard.tune.Trial;
import io.quantguard.tune.TuneResult;
import io.quantguard.tune.Tuner;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code quantguard tune}: the recipe with the fewest higher-precision nodes that meets a policy,
 * found by sensitivity ranking, repairs and bisection over fallbacks; exits 1 when none was found
 * within the budget (the best one is still written, with its gaps).
 */
@Command(
    name = "tune",
    mixinStandardHelpOptions = true,
    description = {
      "Tune a static, dynamic or mixed recipe to a policy: rank the quantized nodes by"
          + " sensitivity, repair the model (SmoothQuant α) and the sensitive static nodes (another"
          + " calibrator, per-channel or MSE weights, bias correction, SmoothQuant, or a switch to"
          + " dynamic int8), then keep the fewest"
          + " of them in higher precision (int8 weights, fp16 or fp32), found by bisection, and undo"
          + " the fallbacks that turn out not to be needed.",
      "Writes recipe.yaml, model.onnx, report/ (the evaluation), tuning.json, tuning.md,"
          + " tuning.html (trade-off curve, ranking) and tuning-state.json (run the same command"
          + " again to resume).",
      "Exits 0 when the tuned model meets the policy, 1 when the budget ran out first."
    })
final class TuneCommand implements Callable<Integer> {
  @Option(
      names = "--model",
      required = true,
      paramLabel = "MODEL",
      description = "the FP32 model: an .onnx file, a maven:...!/entry or a known name")
  String model;

  @Option(
      names = "--recipe",
      paramLabel = "FILE",
      description =
          "the recipe to start from: static, dynamic or mixed per override (default: static int8"
              + " everywhere, built in)")
  @Nullable Path recipeFile;

  @Option(
      names = "--calibration",
      required = true,
      paramLabel = "SPEC",
      description = "calibration data")
  String calibration;

  @Option(
      names = "--data",
      required = true,
      paramLabel = "[NAME=]SPEC",
      description = "evaluation data (repeatable, each a slice), different from the calibration")
  List<String> data;

  @Option(
      names = "--confirm-data",
      paramLabel = "[NAME=]SPEC",
      description =
          "held-out data the answer must also meet the policy on (repeatable; default: --data"
              + " again)")
  List<String> confirmData = new ArrayList<>();

  @Option(
      names = "--slice-by",
      paramLabel = "SLICER",
      description =
          "slice every trial's evaluation (data, label, an attribute or ATTR=edge,edge;"
              + " repeatable), so per_slice policy rules are judged while tuning")
  List<String> sliceBy = new ArrayList<>();

  @Option(
      names = "--task",
      required = true,
      paramLabel = "TASK",
      description = "classification, embedding, retrieval, qa, regression or raw")
  String task;

  @Option(names = "--policy", required = true, paramLabel = "FILE", description = "the goal")
  Path policy;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "results and state")
  Path out;

  @Option(
      names = "--budget",
      defaultValue = "24",
      paramLabel = "N",
      description = "the most full evaluations (default: ${DEFAULT-VALUE})")
  int budget;

  @Option(
      names = "--rank-samples",
      defaultValue = "64",
      paramLabel = "N",
      description =
          "samples of the first data set to rank nodes and pick repairs on (default:"
              + " ${DEFAULT-VALUE})")
  int rankSamples;

  @Option(
      names = "--repair-top",
      defaultValue = "8",
      paramLabel = "N",
      description = "repair the N most sensitive groups (default: ${DEFAULT-VALUE}; 0 = none)")
  int repairTop;

  @Option(
      names = "--repairs",
      split = ",",
      paramLabel = "KIND",
      description =
          "repairs to try: calibrator, weights, smooth, int16, dynamic, qat (quantization-aware"
              + " training of the whole model, tried once before fallback; default:"
              + " calibrator,weights,smooth,dynamic)")
  List<String> repairs = new ArrayList<>(List.of("calibrator", "weights", "smooth", "dynamic"));

  @Option(
      names = "--qat-steps",
      defaultValue = "200",
      paramLabel = "N",
      description = "the most quantization-aware training steps (default: ${DEFAULT-VALUE})")
  long qatSteps;

  @Option(
      names = "--fallback",
      defaultValue = "fp32",
      paramLabel = "P",
      description = "highest fallback precision: fp32 or fp16 (default: ${DEFAULT-VALUE})")
  String fallback;

  @Option(
      names = "--batch-size",
      defaultValue = "32",
      paramLabel = "N",
      description = "samples per batch in evaluations (default: ${DEFAULT-VALUE})")
  int batchSize;

  @Option(
      names = "--bootstrap",
      defaultValue = "500",
      paramLabel = "N",
      description = "bootstrap resamples per evaluation (default: ${DEFAULT-VALUE})")
  int resamples;

  @Option(names = "--seed", defaultValue = "42", paramLabel = "S", description = "seed")
  long seed;

  @Option(
      names = "--threads",
      defaultValue = "0",
      paramLabel = "N",
      description = "intra-op threads per session; 0 = every core (default)")
  int threads;

  @Option(names = "--json", description = "print tuning.json instead of the summary")
  boolean json;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Policy goal = Policy.read(policy);
    Recipe start = recipeFile != null ? RecipeIO.read(recipeFile) : Recipe.builder().build();
    List<Evaluation.Data> sets = dataSets(data);
    List<Evaluation.Data> confirmSets = dataSets(confirmData);
    if (threads < 0) {
      throw new InvalidInputException("--threads " + threads, "must not be negative", "give 0+");
    }
    Progress progress = TerminalProgress.forTerminal(err, json);
    Tuner.Builder b =
        Tuner.builder()
            .model(ResourceLocator.resolve(model))
            .start(start)
            .calibration(DataSpec.parse(calibration))
            .task(task)
            .policy(goal)
            .budget(budget)
            .rankSamples(rankSamples)
            .repairTop(repairTop)
            .repairs(Set.copyOf(new LinkedHashSet<>(repairs)))
            .qatSteps(qatSteps)
            .fallback(FallbackPrecision.parse("--fallback", fallback))
            .batchSize(batchSize)
            .bootstrap(resamples)
            .seed(seed)
            .session(SessionConfig.defaults().withThreads(threads))
            .progress(progress)
            .log(
                line -> {
                  if (!json) {
                    err.println(line);
                    err.flush();
                  }
                });
    sets.forEach(d -> b.data(d.name(), d.source()));
    confirmSets.forEach(d -> b.confirmData(d.name(), d.source()));
    sliceBy.stream().map(Slicer::parse).forEach(b::sliceBy);
    TuneResult r = b.run(this.out);
    if (progress instanceof TerminalProgress bar) {
      bar.finish();
    }
    if (json) {
      Output.json(out, r);
    } else {
      print(out, r);
    }
    out.flush();
    return r.passed() ? ExitCodes.OK : ExitCodes.POLICY_FAILED;
  }

  private static List<Evaluation.Data> dataSets(List<String> specs) {
    return NamedData.parseAll(specs).stream().map(NamedData::data).toList();
  }

  private void print(PrintWriter out, TuneResult r) {
    Trial best = r.best();
    out.printf(
        Locale.ROOT,
        "%s policy '%s' with %d node(s) in higher precision (trial %d of %d; budget %d, %.0f s)%n",
        r.passed() ? "PASSES" : "DOES NOT PASS",
        r.policy(),
        best.higherPrecision(),
        best.index(),
        r.evaluations(),
        r.budget(),
        r.seconds());
    for (Decision d : r.decisions()) {
      out.printf("  %-16s %s: %s%n", d.action(), String.join(", ", d.nodes()), d.evidence());
    }
    TrainingOutcome qat = r.training();
    if (qat != null) {
      out.printf(
          Locale.ROOT,
          "  quantization-aware training (%d steps): quality %s → %s, %s%n",
          qat.steps(),
          qat.before(),
          qat.after(),
          qat.improved() ? "closer to the policy" : "not closer to the policy");
    }
    for (Trial.Gap g : best.gaps()) {
      out.printf(
          "  gap: %s [%s] measured %s, limit %s (%s)%n",
          g.rule(), g.slice(), g.measured(), g.limit(), g.margin());
    }
    out.println("Recipe      " + this.out.resolve("recipe.yaml"));
    out.println("Model       " + this.out.resolve("model.onnx"));
    out.println("Report      " + this.out.resolve("tuning.html"));
  }
}

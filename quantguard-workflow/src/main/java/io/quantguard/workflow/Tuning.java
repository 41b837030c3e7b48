package io.quantguard.workflow;

import io.quantguard.evaluate.Evaluation;
import io.quantguard.evaluate.Slicer;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.quantize.QuantizationResult;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.quantize.ResolvedRecipe;
import io.quantguard.report.AtomicFile;
import io.quantguard.report.Policy;
import io.quantguard.runtime.data.DataSpec;
import io.quantguard.tune.Trial;
import io.quantguard.tune.TuneResult;
import io.quantguard.tune.Tuner;
import java.nio.file.Path;
import java.util.List;

/**
 * The tune step: for a static approach the {@link Tuner} searches from the start recipe until the
 * policy holds or the budget is spent; quantization-aware training trains the start recipe's static
 * quantizers instead ({@link Training}); any other approach quantizes the model in that mode as it
 * is, since the search moves static recipes only.
 */
final class Tuning {
  private final ProjectInputs in;
  private final Path out;

  Tuning(ProjectInputs in, Path out) {
    this.in = in;
    this.out = out;
  }

  /** The start recipe as a static one, for the probe (a non-static start is probed as static). */
  static Recipe staticRecipe(Recipe start) {
    if (ResolvedRecipe.of(start).mode() == Recipe.Mode.STATIC) {
      return start;
    }
    return Recipe.builder().build();
  }

  Workflow.Candidate candidate(
      Path model,
      Recipe.Mode approach,
      boolean quantizationAware,
      Recipe start,
      String calibration,
      List<Evaluation.Data> test,
      List<Evaluation.Data> confirm,
      Policy policy,
      ProjectInputs.Search search,
      Path dir) {
    if (quantizationAware) {
      return Training.train(in, model, staticRecipe(start), calibration, dir, out);
    }
    if (approach == Recipe.Mode.STATIC) {
      Tuner.Options options =
          new Tuner.Options(
              search.budget(),
              search.rankSamples(),
              Tuner.Options.defaults().repairTop(),
              search.repairs(),
              Tuner.Options.defaults().qatSteps(),
              search.fallback(),
              in.batchSize(),
              in.bootstrap(),
              42,
              in.session(),
              in.listener.progress(),
              in.listener::log);
      Path tuned = dir.resolve("tuned");
      TuneResult r =
          Tuner.run(
              new Tuner.Inputs(
                  model,
                  staticRecipe(start),
                  DataSpec.parse(calibration),
                  test,
                  confirm,
                  in.project.task(),
                  policy,
                  in.project.data().sliceBy() != null
                      ? List.of(Slicer.parse(in.project.data().sliceBy()))
                      : List.of()),
              options,
              tuned);
      Trial best = r.best();
      return new Workflow.Candidate(
          approach,
          out.relativize(tuned.resolve("model.onnx")).toString(),
          out.relativize(tuned.resolve("recipe.yaml")).toString(),
          best.recipeSha256(),
          true,
          r.passed(),
          r.evaluations(),
          r.budget(),
          best.higherPrecision(),
          r.decisions().stream()
              .map(d -> d.action() + " " + String.join(", ", d.nodes()) + ": " + d.evidence())
              .toList(),
          false);
    }
    Recipe recipe = Recipe.builder().mode(approach).build();
    OnnxModel fp32 = ModelIO.load(model);
    QuantizationResult q =
        Quantizer.quantize(
            fp32, recipe, null, new Quantizer.Options(in.session(), in.listener.progress()));
    Path file = dir.resolve("model.onnx");
    ModelIO.save(q.model(), file);
    Path recipeFile = AtomicFile.write(dir.resolve("recipe.yaml"), RecipeIO.toYaml(q.recipe()));
    return new Workflow.Candidate(
        approach,
        out.relativize(file).toString(),
        out.relativize(recipeFile).toString(),
        RecipeIO.sha256(q.recipe().resolved()),
        false,
        null,
        0,
        0,
        0,
        List.of("tuning searches static recipes; the " + approach + " recipe is used as it is"),
        false);
  }

  static String describe(Workflow.Candidate c) {
    if (c.trained()) {
      return c.approach() + " int8 model after " + c.decisions().get(0);
    }
    if (!c.tuned()) {
      return c.approach() + " int8 model (no search: " + c.decisions().get(0) + ")";
    }
    return (Boolean.TRUE.equals(c.tuningPassed()) ? "meets" : "does NOT meet")
        + " the policy with "
        + c.higherPrecision()
        + " node(s) in higher precision, "
        + c.evaluations()
        + " of "
        + c.budget()
        + " evaluations";
  }
}

package io.quantguard.tune;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.Graph;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.quantize.ResolvedRecipe;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The tuner's decisions, apart from how a candidate is measured ({@link TrialRunner}) and where
 * what was learned is kept ({@link TuneState}): SmoothQuant's α for the whole model, the ranking,
 * the node repairs (dynamic int8 among them), quantization-aware training, bisection over the
 * fallback ladder, undo and confirmation. See {@link Tuner} for the steps and why they come in this
 * order.
 */
final class Search {
  private final Graph graph;
  private final List<List<String>> groups;
  private final Set<String> dynamicNodes;
  private final Recipe start;
  private final TrialRunner runner;
  private final TuneState state;
  private final Tuner.Options opt;
  private final boolean heldOut;
  private final @Nullable Training training;

  /**
   * Quantization-aware training for the search: trains the weights under a recipe, and makes the
   * runner measure the recipes marked {@link Tuner#TRAINED} on the trained model.
   */
  interface Training {
    TrainingRepair.Result train(Recipe recipe);

    void measureOn(OnnxModel trained);
  }

  /**
   * @param graph the FP32 model's graph (what repairs are offered for)
   * @param groups the units the search moves: the start recipe's static fallback groups and its
   *     dynamically quantized nodes, one each
   * @param dynamicNodes the nodes the start recipe quantizes dynamically (no static repair fits)
   * @param heldOut whether the confirmation runs on held-out data
   * @param training quantization-aware training, when it is a repair; null otherwise
   */
  Search(
      Graph graph,
      List<List<String>> groups,
      Set<String> dynamicNodes,
      Recipe start,
      TrialRunner runner,
      TuneState state,
      Tuner.Options opt,
      boolean heldOut,
      @Nullable Training training) {
    this.graph = graph;
    this.groups = List.copyOf(groups);
    this.dynamicNodes = Set.copyOf(dynamicNodes);
    this.start = start;
    this.runner = runner;
    this.state = state;
    this.opt = opt;
    this.heldOut = heldOut;
    this.training = training;
  }

  /** Searches and confirms; the trials are in the state, the best is {@link #best}. */
  void run() {
    Recipe base = start;
    Trial first = trial("start", base, 0, "the start recipe");
    if (first != null && !first.passed()) {
      if (first.qualityPassed()) {
        log(
            "the start recipe meets every quality rule but not the cost rules: higher precision"
                + " only costs more, so there is nothing to fall back");
      } else {
        Recipe smoothed = smooth(base);
        List<RankedGroup> ranking = state.ranking();
        if (ranking == null) {
          ranking = rank(smoothed);
          state.ranking(ranking);
        }
        log(
            "ranked "
                + ranking.size()
                + " groups; most sensitive: "
                + ranking.stream()
                    .limit(3)
                    .map(
                        g ->
                            g.nodes().get(0)
                                + String.format(Locale.ROOT, " (%.1f dB)", g.outputSqnrDb()))
                    .toList());
        base = repair(base, smoothed, ranking, first);
        Trial repaired = state.trial(RecipeIO.sha256(base.resolved()));
        if (repaired != null && !repaired.passed() && !repaired.qualityPassed()) {
          Trial trained = train(first, repaired);
          if (trained == null || !trained.qualityPassed()) {
            fallback(base, state.rankedGroups());
          }
        }
      }
    }
    confirm();
  }

  /** The best standing trial: the answer, or the closest to the policy. */
  Trial best() {
    return standing(state.trials()).stream().min(Trial::compare).orElseThrow();
  }

  /**
   * The trials that stand: one per recipe, the first, unless a later evaluation of the same recipe
   * failed, in which case the failing one stands for it.
   */
  static List<Trial> standing(List<Trial> trials) {
    Map<String, Trial> bySha = new LinkedHashMap<>();
    for (Trial t : trials) {
      Trial seen = bySha.get(t.recipeSha256());
      if (seen == null || (seen.passed() && !t.passed())) {
        bySha.put(t.recipeSha256(), t);
      }
    }
    return List.copyOf(bySha.values());
  }

  private boolean anyStatic() {
    return groups.stream().flatMap(List::stream).anyMatch(n -> !dynamicNodes.contains(n));
  }

  // ---- whole-model repair -------------------------------------------------------------------

  /**
   * SmoothQuant's α searched for the whole model (the migration strength is a property of the
   * model's activation statistics more than of one layer): the α whose fully quantized model has
   * the highest output SQNR, if it beats the start recipe by {@value Tuner#MIN_REPAIR_GAIN_DB} dB.
   */
  private Recipe smooth(Recipe base) {
    if (!opt.repairs().contains("smooth") || base.resolved().smooth() != null || !anyStatic()) {
      return base;
    }
    List<ChosenRepair> chosen = state.globalRepairs();
    if (chosen == null) {
      double before = runner.outputSqnrDb(base);
      double best = before + Tuner.MIN_REPAIR_GAIN_DB;
      Double alpha = null;
      for (double a : Tuner.SMOOTH_ALPHAS) {
        double db = runner.outputSqnrDb(base.toBuilder().smooth(a).build());
        log(
            String.format(
                Locale.ROOT, "  smooth %.2f everywhere → %.2f dB (was %.2f)", a, db, before));
        if (db > best) {
          best = db;
          alpha = a;
        }
      }
      chosen =
          alpha == null
              ? List.of()
              : List.of(new ChosenRepair(Tuner.EVERY_NODE, new Repair.Smooth(alpha), before, best));
      state.globalRepairs(chosen);
    }
    if (chosen.isEmpty() || !(chosen.get(0).repair() instanceof Repair.Smooth s)) {
      return base;
    }
    ChosenRepair c = chosen.get(0);
    return base.toBuilder()
        .smooth(s.alpha())
        .rationale(
            String.format(
                Locale.ROOT,
                "%s; tune: SmoothQuant α %.2f on every MatMul/Gemm with constant weights: model output"
                    + " SQNR %.2f → %.2f dB",
                base.rationale() == null ? "tuned" : base.rationale(),
                s.alpha(),
                c.beforeDb(),
                c.afterDb()))
        .build();
  }

  // ---- ranking ------------------------------------------------------------------------------

  private List<RankedGroup> rank(Recipe base) {
    List<String> all = groups.stream().flatMap(List::stream).toList();
    List<RankedGroup> out = new ArrayList<>();
    int i = 0;
    for (List<String> g : groups) {
      double db = aloneSqnr(base, g, all, List.of());
      String op = graph.node(g.get(0)).map(Node::opType).orElse("?");
      out.add(new RankedGroup(g, op, db));
      opt.progress().update("ranking", ++i, groups.size());
    }
    out.sort(Comparator.comparingDouble(RankedGroup::outputSqnrDb));
    return out;
  }

  /** Output SQNR with only {@code group} quantized (plus {@code extra} overrides). */
  private double aloneSqnr(
      Recipe base, List<String> group, List<String> all, List<Recipe.Override> extra) {
    return runner.outputSqnrDb(
        RecipeEdits.only(base, group, all).toBuilder().addOverrides(extra).build());
  }

  // ---- node repairs -------------------------------------------------------------------------

  /**
   * Per-node repairs on top of the whole-model ones ({@code smoothed}), for the most sensitive
   * groups; one trial of all of them together, kept when it is closer to the policy than {@code
   * first}. Returns the recipe the fallback search starts from.
   */
  private Recipe repair(Recipe base, Recipe smoothed, List<RankedGroup> ranking, Trial first) {
    if (opt.repairs().isEmpty() || (opt.repairTop() == 0 && smoothed == base)) {
      return base;
    }
    List<ChosenRepair> chosen = state.repairs();
    List<String> all = ranking.stream().flatMap(g -> g.nodes().stream()).toList();
    if (chosen == null) {
      chosen = choose(smoothed, ranking, all);
      state.repairs(chosen);
    }
    if (chosen.isEmpty() && smoothed == base) {
      log("no repair raised a sensitive group's SQNR by " + Tuner.MIN_REPAIR_GAIN_DB + " dB");
      return base;
    }
    List<Recipe.Override> overrides = new ArrayList<>();
    for (ChosenRepair c : chosen) {
      String why =
          String.format(
              Locale.ROOT,
              "tune: %s for %s: output SQNR with the node alone %.2f → %.2f dB",
              c.repair().label(),
              c.node(),
              c.beforeDb(),
              c.afterDb());
      Node n = graph.node(c.node()).orElseThrow();
      c.repair()
          .overrides(c.node(), Repairs.activationInputs(graph, n))
          .forEach(o -> overrides.add(o.toBuilder().because(why)));
    }
    long dynamic = chosen.stream().filter(c -> c.repair() instanceof Repair.Dynamic).count();
    Recipe repaired = smoothed.toBuilder().addOverrides(overrides).build();
    Trial t =
        trial(
            "repair",
            repaired,
            0,
            (smoothed == base ? "" : "SmoothQuant and ")
                + chosen.size()
                + " node repairs"
                + (dynamic > 0 ? " (" + dynamic + " to dynamic int8)" : ""));
    if (t == null) {
      return base;
    }
    boolean better = Trial.compare(t, first) < 0;
    state.repairsAdopted(better);
    if (!better) {
      log("the repairs did not bring the candidate closer to the policy; dropped");
      return base;
    }
    // re-rank: a repaired group is as sensitive as it is after its repair
    List<RankedGroup> reranked = new ArrayList<>();
    for (RankedGroup g : state.rankedGroups()) {
      double db = g.outputSqnrDb();
      for (ChosenRepair c : chosen) {
        if (g.nodes().contains(c.node())) {
          db = Math.max(db, c.afterDb());
        }
      }
      reranked.add(new RankedGroup(g.nodes(), g.opType(), db));
    }
    reranked.sort(Comparator.comparingDouble(RankedGroup::outputSqnrDb));
    state.ranking(reranked);
    return repaired;
  }

  /** For each node of the most sensitive groups, the repair that raises its SQNR most, if any. */
  private List<ChosenRepair> choose(Recipe smoothed, List<RankedGroup> ranking, List<String> all) {
    ResolvedRecipe resolved = ResolvedRecipe.of(smoothed);
    List<ChosenRepair> chosen = new ArrayList<>();
    Set<String> repairedTensors = new LinkedHashSet<>();
    int top = Math.min(opt.repairTop(), ranking.size());
    for (int i = 0; i < top; i++) {
      RankedGroup g = ranking.get(i);
      for (String node : g.nodes()) {
        if (dynamicNodes.contains(node)) {
          continue; // the static repairs do not apply to a node quantized per call
        }
        List<String> inputs = Repairs.activationInputs(graph, graph.node(node).orElseThrow());
        Repair best = null;
        double bestDb = g.outputSqnrDb() + Tuner.MIN_REPAIR_GAIN_DB;
        for (Repair r : Repairs.candidates(graph, node, resolved, opt.repairs())) {
          List<Recipe.Override> o = r.overrides(node, inputs);
          boolean clash =
              o.stream().anyMatch(x -> x.tensor() != null && repairedTensors.contains(x.tensor()));
          if (clash) {
            continue; // a more sensitive node already chose this tensor's calibrator
          }
          double db = aloneSqnr(smoothed, g.nodes(), all, o);
          log(
              String.format(
                  Locale.ROOT,
                  "  %s: %s → %.2f dB (was %.2f)",
                  node,
                  r.label(),
                  db,
                  g.outputSqnrDb()));
          if (db > bestDb) {
            best = r;
            bestDb = db;
          }
        }
        if (best != null) {
          chosen.add(new ChosenRepair(node, best, g.outputSqnrDb(), bestDb));
          best.overrides(node, inputs).stream()
              .filter(x -> x.tensor() != null)
              .forEach(x -> repairedTensors.add(x.tensor()));
        }
      }
      opt.progress().update("repairs", i + 1, top);
    }
    return chosen;
  }

  // ---- quantization-aware training ----------------------------------------------------------

  /**
   * Quantization-aware training of the whole model under the recipe of {@code current} (every group
   * still quantized), tried once: it costs minutes, so it runs only when the cheaper repairs left
   * the quality rules failing, and its trained model is kept so a resumed run does not train again.
   * When the training cannot take the repairs in that recipe (it trains min/max weight ranges, say,
   * and a repair fitted them by MSE), it trains the start recipe of trial {@code first} instead.
   * The trained weights quantized with the recipe they were trained under are one trial, which
   * stands among the others; null when there is none.
   *
   * <p>The fallback search does not go on from the trained weights: they are fitted to the
   * quantization grid, and in float they are worse than the FP32 model (the CNN trained 40 steps at
   * W4A8 loses 1.1 points in FP32), so a group in fp32 there would not regain what it lost.
   */
  private @Nullable Trial train(Trial first, Trial current) {
    Training t = training;
    if (t == null) {
      return null;
    }
    TrainingOutcome o = state.training();
    if (o == null) {
      if (state.trials().size() >= opt.budget()) {
        log("budget of " + opt.budget() + " evaluations spent before quantization-aware training");
        return null;
      }
      log(
          "quantization-aware training: at most "
              + opt.qatSteps()
              + " steps on the recipe of trial "
              + current.index());
      // the repaired recipe first; where the training cannot take its repairs, the start recipe
      List<Trial> candidates =
          current.index() == first.index() ? List.of(current) : List.of(current, first);
      Trial on = null;
      TrainingRepair.Result r = null;
      for (Trial c : candidates) {
        try {
          r = t.train(state.recipe(c));
          on = c;
          break;
        } catch (InvalidInputException e) {
          if (c.index() != first.index()) {
            log(
                "quantization-aware training cannot take the repairs ("
                    + e.getMessage()
                    + "): it trains the start recipe");
          } else if (candidates.size() == 1) {
            log("quantization-aware training cannot train this recipe, skipped: " + e.getMessage());
          } else {
            log(
                "quantization-aware training cannot train the start recipe either, skipped: "
                    + e.getMessage());
          }
        }
      }
      if (r == null || on == null) {
        return null;
      }
      String sha = state.keepTrainedModel(r.trained());
      o =
          new TrainingOutcome(
              r.description(),
              r.steps(),
              TuneState.TRAINED_MODEL,
              sha,
              on.index(),
              current.index(),
              current.quality(),
              null,
              null,
              false);
      state.training(o);
    }
    t.measureOn(state.trainedModel(o));
    Recipe trainedOn = state.recipe(state.trials().get(o.recipeTrial() - 1));
    Recipe candidate =
        trainedOn.toBuilder()
            .rationale(
                (trainedOn.rationale() == null ? "tuned" : trainedOn.rationale())
                    + "; "
                    + Tuner.TRAINED
                    + " (trained FP32 model sha256 "
                    + o.modelSha256().substring(0, 12)
                    + "): "
                    + o.description())
            .build();
    Trial after = trial("qat", candidate, 0, "quantization-aware training");
    if (after == null) {
      return null;
    }
    boolean better = Trial.compare(after, current) < 0;
    state.training(o.measured(after, better));
    log(
        String.format(
            Locale.ROOT,
            "quantization-aware training: quality %s → %s; %s",
            current.quality(),
            after.quality(),
            better
                ? after.qualityPassed()
                    ? "closer to the policy, and it meets the quality rules"
                    : "closer to the policy; the fallback search goes on from the original weights"
                : "not closer to the policy"));
    return after;
  }

  // ---- fallback -----------------------------------------------------------------------------

  private void fallback(Recipe base, List<RankedGroup> ranking) {
    List<Fallback> ladder = new ArrayList<>();
    DataType weights = ResolvedRecipe.of(base).weightType();
    if (weights.bits() < 8) {
      ladder.add(Fallback.INT8_WEIGHTS);
    }
    ladder.add(opt.fallback() == FallbackPrecision.FP16 ? Fallback.FP16 : Fallback.FP32);
    int n = ranking.size();
    Fallback rung = null;
    for (Fallback f : ladder) {
      if (f == Fallback.FP32) {
        rung = f; // every group in fp32 is the FP32 model itself: the quality rules hold there
        break;
      }
      Trial all =
          trial(
              "fallback",
              withFallback(base, ranking.subList(0, n), f),
              count(ranking.subList(0, n)),
              "all " + n + " groups at " + f.label());
      if (all == null) {
        return;
      }
      if (all.qualityPassed()) {
        rung = f;
        break;
      }
      log("even every group at " + f.label() + " misses the quality rules");
    }
    if (rung == null) {
      return;
    }
    int lo = 0;
    int hi = n;
    while (hi - lo > 1) {
      int mid = (lo + hi) / 2;
      Trial t =
          trial(
              "bisect",
              withFallback(base, ranking.subList(0, mid), rung),
              count(ranking.subList(0, mid)),
              "the " + mid + " most sensitive groups at " + rung.label());
      if (t == null) {
        return;
      }
      if (t.qualityPassed()) {
        hi = mid;
      } else {
        lo = mid;
      }
    }
    if (hi == n && rung == Fallback.FP32) {
      log("no group can stay quantized: only the FP32 model meets the quality rules");
      return;
    }
    undo(base, new ArrayList<>(ranking.subList(0, hi)), rung);
  }

  /**
   * Gives each kept group back its start precision, least sensitive first, and keeps the change
   * when the policy still holds and the trial is better.
   */
  private void undo(Recipe base, List<RankedGroup> kept, Fallback rung) {
    Trial current =
        trial(
            "bisect",
            withFallback(base, kept, rung),
            count(kept),
            "the " + kept.size() + " most sensitive groups at " + rung.label());
    if (current == null) {
      return;
    }
    for (int i = kept.size() - 1; i >= 0; i--) {
      List<RankedGroup> without = new ArrayList<>(kept);
      RankedGroup g = without.remove(i);
      Trial t =
          trial(
              "undo",
              withFallback(base, without, rung),
              count(without),
              "without " + g.nodes().get(0) + " at " + rung.label());
      if (t == null) {
        return;
      }
      if (t.qualityPassed() && Trial.compare(t, current) < 0) {
        kept = without;
        current = t;
      }
    }
  }

  private static Recipe withFallback(Recipe base, List<RankedGroup> groups, Fallback f) {
    List<Recipe.Override> o = new ArrayList<>();
    int rank = 0;
    for (RankedGroup g : groups) {
      rank++;
      String why =
          String.format(
              Locale.ROOT,
              "tune: %s, sensitivity rank %d: model output SQNR %.2f dB with only %s quantized",
              f.label(),
              rank,
              g.outputSqnrDb(),
              g.nodes().size() == 1 ? "this node" : "this group");
      for (String node : g.nodes()) {
        o.add(f.override(node, why));
      }
    }
    return base.toBuilder().addOverrides(o).build();
  }

  private static int count(List<RankedGroup> groups) {
    return groups.stream().mapToInt(g -> g.nodes().size()).sum();
  }

  // ---- confirmation -------------------------------------------------------------------------

  /**
   * Evaluates the best passing recipe once more, on the held-out confirmation data when there is
   * some: a pass that rests on a noisy latency measurement, a lucky split or a recipe tuned to the
   * edge of the validation data should not become the answer. A recipe counts as passing only when
   * every evaluation of it passed; when the confirmation fails, the next best is confirmed, while
   * the budget lasts.
   */
  private void confirm() {
    while (true) {
      Trial best = standing(state.trials()).stream().min(Trial::compare).orElse(null);
      if (best == null || !best.passed()) {
        return;
      }
      boolean confirmed =
          state.trials().stream()
              .anyMatch(
                  t -> t.recipeSha256().equals(best.recipeSha256()) && t.index() != best.index());
      if (confirmed) {
        return;
      }
      Trial again =
          evaluate(
              "confirm",
              state.recipe(best),
              best.higherPrecision(),
              "trial " + best.index() + (heldOut ? " on held-out data" : " again"));
      if (again == null || again.passed()) {
        return;
      }
      log("trial " + best.index() + " did not pass again: it is not the answer");
    }
  }

  // ---- trials -------------------------------------------------------------------------------

  /** Evaluates a recipe (or takes its earlier result); null when the budget is spent. */
  private @Nullable Trial trial(
      String phase, Recipe recipe, int higherPrecision, String description) {
    Trial cached = state.trial(RecipeIO.sha256(recipe.resolved()));
    return cached != null ? cached : evaluate(phase, recipe, higherPrecision, description);
  }

  /** Evaluates a recipe on the full data; null when the budget is spent. */
  private @Nullable Trial evaluate(
      String phase, Recipe recipe, int higherPrecision, String description) {
    if (state.trials().size() >= opt.budget()) {
      log("budget of " + opt.budget() + " evaluations spent");
      return null;
    }
    long t0 = System.nanoTime();
    int index = state.trials().size() + 1;
    TrialRunner.Outcome o = runner.run(index, recipe, "confirm".equals(phase));
    Trial t =
        Trial.of(
            index,
            phase,
            RecipeIO.sha256(recipe.resolved()),
            description,
            higherPrecision,
            o,
            (System.nanoTime() - t0) / 1e9);
    state.add(t, recipe);
    log(Trials.line(t));
    return t;
  }

  private void log(String line) {
    opt.log().accept(line);
  }
}

package io.quantguard.tune;

import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.Evaluation;
import io.quantguard.evaluate.Slicer;
import io.quantguard.evaluate.Tasks;
import io.quantguard.onnx.DataType;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.quantize.Calibration;
import io.quantguard.quantize.QuantizationResult;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.quantize.ResolvedRecipe;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.Judgement;
import io.quantguard.report.Policy;
import io.quantguard.report.ReportReader;
import io.quantguard.report.ReportWriter;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.DataSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Accuracy-aware mixed precision: finds the recipe that meets a policy with the fewest nodes in
 * higher precision.
 *
 * <ol>
 *   <li>Calibrate once; every later recipe reuses the statistics.
 *   <li>Rank the fallback groups ({@link Quantizer#staticGroups}) by the SQNR of the model's
 *       outputs with only that group quantized, on the first {@code rankSamples} samples.
 *   <li>Evaluate the start recipe on the full data; stop if the policy holds.
 *   <li>Repair before fallback: for the most sensitive groups try each {@link Repair} on the group
 *       alone, keep those that raise its SQNR by at least {@value #MIN_REPAIR_GAIN_DB} dB, and
 *       evaluate them together once; keep them if the candidate got closer to the policy.
 *   <li>Fallback by bisection over the ranked list: the smallest k such that the k most sensitive
 *       groups in higher precision satisfy the policy's quality rules (accuracy improves with k,
 *       cost gets worse, so the smallest k is the best chance for the cost rules) — about
 *       log₂(groups) evaluations. The precision ladder is int8 weights (when the recipe's weights
 *       are narrower), then fp16 or fp32.
 *   <li>Undo: give each chosen group back its start precision, least sensitive first, and keep the
 *       change when the policy still holds.
 * </ol>
 *
 * Every evaluation is a {@link Trial} on the full data, judged by the policy; the budget bounds
 * their number. The state is written after each trial, so an interrupted run resumes where it
 * stopped (the same recipes are not evaluated again), and the search is deterministic for a seed.
 * When the budget ends without a passing recipe, the best failing one is returned with its gaps.
 */
public final class Tuner {
  /** A repair must raise its group's output SQNR by this much to be tried in a full evaluation. */
  static final double MIN_REPAIR_GAIN_DB = 0.5;

  /** SmoothQuant migration strengths tried for the whole model. */
  static final double[] SMOOTH_ALPHAS = {0.5, 0.6, 0.7, 0.75, 0.8, 0.9};

  /** How a repair of the whole model names its target. */
  static final String EVERY_NODE = "(every eligible node)";

  /**
   * What to tune.
   *
   * @param model the FP32 model file (the baseline of every evaluation)
   * @param start the recipe to start from (static mode: its quantized nodes are the ones tuned)
   * @param data what every trial is evaluated on; the first set also ranks and picks repairs
   * @param confirmData held-out data the answer must also pass on (empty: {@code data} again), so a
   *     recipe tuned to the edge of the validation data is not the answer
   * @param taskSpec the evaluation task ({@code classification}, {@code embedding}, ...)
   * @param sliceBy how every trial's evaluation is sliced, so the policy's {@code per_slice} rules
   *     are judged while tuning and not only at the gate (a recipe that fails one class is not the
   *     answer)
   */
  public record Inputs(
      Path model,
      Recipe start,
      DataSource calibration,
      List<Evaluation.Data> data,
      List<Evaluation.Data> confirmData,
      String taskSpec,
      Policy policy,
      List<Slicer> sliceBy) {
    public Inputs {
      data = List.copyOf(data);
      confirmData = List.copyOf(confirmData);
      sliceBy = List.copyOf(sliceBy);
    }
  }

  /**
   * How to search.
   *
   * @param budget the most full evaluations (trials), the start recipe's included
   * @param rankSamples samples of the first data set used to rank groups and pick repairs
   * @param repairTop how many of the most sensitive groups get repair candidates
   * @param repairs repair kinds to try ({@link Repair#KINDS}); empty = no repairs
   * @param fallback the last rung of the precision ladder: {@code fp32} or {@code fp16}
   * @param log one line per step, for people watching
   */
  public record Options(
      int budget,
      int rankSamples,
      int repairTop,
      Set<String> repairs,
      String fallback,
      int batchSize,
      int bootstrap,
      long seed,
      SessionConfig session,
      Progress progress,
      Consumer<String> log) {
    public Options {
      repairs = Set.copyOf(repairs);
    }

    public static Options defaults() {
      return new Options(
          24,
          64,
          8,
          Repair.DEFAULT_KINDS,
          "fp32",
          32,
          500,
          42,
          SessionConfig.defaults(),
          Progress.NONE,
          s -> {});
    }
  }

  private final Inputs in;
  private final Options opt;
  private final Path out;
  private final TuneState state;
  private final Quantizer.Options q;
  private final long started;
  private final OnnxModel fp32;
  private final Calibration cal;
  private @Nullable ReferenceOutputs reference;

  private Tuner(Inputs in, Options opt, Path out, TuneState state) {
    this.in = in;
    this.opt = opt;
    this.out = out;
    this.state = state;
    this.q = new Quantizer.Options(opt.session(), Progress.NONE);
    this.started = System.nanoTime();
    this.fp32 = ModelIO.load(in.model());
    log("calibrating on " + in.calibration().name());
    this.cal = Quantizer.calibrate(fp32, in.start(), in.calibration(), q);
  }

  /** The entry point for code: what to tune, on what, against which policy, and how hard. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Builds a tuning run: the model, the start recipe, calibration and evaluation data, the task and
   * the policy are required; the search settings default to {@link Options#defaults()}.
   */
  public static final class Builder {
    private @Nullable Path model;
    private Recipe start = Recipe.builder().build();
    private @Nullable DataSource calibration;
    private final List<Evaluation.Data> data = new ArrayList<>();
    private final List<Evaluation.Data> confirmData = new ArrayList<>();
    private @Nullable String task;
    private @Nullable Policy policy;
    private final List<Slicer> sliceBy = new ArrayList<>();
    private Options options = Options.defaults();

    private Builder() {}

    /** The FP32 model file: the baseline of every evaluation. */
    public Builder model(Path fp32) {
      this.model = fp32;
      return this;
    }

    /** The recipe to start from (default: static int8 with the defaults). */
    public Builder start(Recipe recipe) {
      this.start = recipe;
      return this;
    }

    public Builder calibration(DataSource source) {
      this.calibration = source;
      return this;
    }

    /** A data set every trial is evaluated on (repeatable, each a slice). */
    public Builder data(String name, DataSource source) {
      data.add(new Evaluation.Data(name, source));
      return this;
    }

    /** Held-out data the answer must also pass on (repeatable). */
    public Builder confirmData(String name, DataSource source) {
      confirmData.add(new Evaluation.Data(name, source));
      return this;
    }

    /** The evaluation task spec: {@code classification}, {@code embedding}, ... */
    public Builder task(String spec) {
      this.task = spec;
      return this;
    }

    public Builder policy(Policy policy) {
      this.policy = policy;
      return this;
    }

    /** Slices every trial's evaluation, so {@code per_slice} rules are judged while tuning. */
    public Builder sliceBy(Slicer slicer) {
      sliceBy.add(slicer);
      return this;
    }

    /** The search settings, replacing the defaults. */
    public Builder options(Options options) {
      this.options = options;
      return this;
    }

    /** The most full evaluations to spend, the start recipe's included. */
    public Builder budget(int evaluations) {
      Options o = options;
      this.options =
          new Options(
              evaluations,
              o.rankSamples(),
              o.repairTop(),
              o.repairs(),
              o.fallback(),
              o.batchSize(),
              o.bootstrap(),
              o.seed(),
              o.session(),
              o.progress(),
              o.log());
      return this;
    }

    /** What to tune, as {@link #run(Inputs, Options, Path)} takes it. */
    public Inputs inputs() {
      if (data.isEmpty()) {
        throw InvalidInputException.forParameter(
            "tune.data", null, "is required", "give data to evaluate trials on");
      }
      return new Inputs(
          required(model, "tune.model", "give the FP32 model file"),
          start,
          required(calibration, "tune.calibration", "give representative calibration data"),
          data,
          confirmData,
          required(task, "tune.task", "give the task, e.g. classification"),
          required(policy, "tune.policy", "give the policy the answer must meet"),
          sliceBy);
    }

    /**
     * Runs (or resumes) the search into {@code out}; see {@link Tuner#run(Inputs, Options, Path)}.
     */
    public TuneResult run(Path out) {
      return Tuner.run(inputs(), options, out);
    }

    private static <T> T required(@Nullable T value, String key, String fix) {
      if (value == null) {
        throw InvalidInputException.forParameter(key, null, "is required", fix);
      }
      return value;
    }
  }

  /**
   * Runs (or resumes) the search and writes its results into {@code out}: {@code recipe.yaml},
   * {@code model.onnx}, {@code report/} (the best candidate's evaluation), {@code tuning.json},
   * {@code tuning.md}, {@code tuning.html}, and the resumable {@code tuning-state.json}.
   */
  public static TuneResult run(Inputs in, Options opt, Path out) {
    validate(in, opt);
    if (Files.exists(out) && !Files.isDirectory(out)) {
      throw InvalidInputException.forParameter(
          "tune.out", out, "is a file, not a directory", "give a directory for the results");
    }
    boolean fresh = !Files.exists(out);
    String key = TuneState.key(in, opt);
    TuneState state = TuneState.open(out, key);
    try {
      return new Tuner(in, opt, out, state).search();
    } catch (InvalidInputException e) {
      if (fresh && state.trials().isEmpty()) {
        Directories.deleteTree(out); // nothing learned: leave no half-made results behind
      }
      throw e;
    }
  }

  private static void validate(Inputs in, Options opt) {
    if (opt.budget() < 1) {
      throw InvalidInputException.forParameter(
          "tune.budget", opt.budget(), "must be at least 1", "give the most evaluations to spend");
    }
    if (opt.rankSamples() < 1) {
      throw InvalidInputException.forParameter(
          "tune.rankSamples", opt.rankSamples(), "must be at least 1", "give e.g. 64");
    }
    if (!Set.of("fp32", "fp16").contains(opt.fallback())) {
      throw InvalidInputException.forParameter(
          "tune.fallback", opt.fallback(), "is not a fallback precision", "use fp32 or fp16");
    }
    for (String r : opt.repairs()) {
      if (!Repair.KINDS.contains(r)) {
        throw InvalidInputException.forParameter(
            "tune.repairs", r, "is not a repair", "use any of " + String.join(", ", Repair.KINDS));
      }
    }
    Recipe.Mode mode = ResolvedRecipe.of(in.start(), "the start recipe").mode();
    if (mode != Recipe.Mode.STATIC) {
      throw new InvalidInputException(
          "the start recipe",
          "is in " + mode + " mode",
          "tune starts from a static recipe (its quantized nodes are what it ranks and falls back)");
    }
    if (in.policy().rules().stream().allMatch(r -> r.limitsCost())) {
      throw new InvalidInputException(
          in.policy().source(),
          "has no rule on what the model computes (only cost rules)",
          "add a quality rule, e.g. accuracy: {max_drop: 0.5%} or cosine: {min: 0.99}");
    }
  }

  private TuneResult search() {
    Recipe base = in.start();
    List<List<String>> groups = Quantizer.staticGroups(cal, base);
    if (groups.isEmpty()) {
      throw new InvalidInputException(
          "the start recipe",
          "quantizes no node statically in " + in.model(),
          "check op_types and exclude against the model's operators");
    }
    Trial start = trial("start", base, 0, "the start recipe");
    if (start != null && !start.passed()) {
      if (start.qualityPassed()) {
        log(
            "the start recipe meets every quality rule but not the cost rules: higher precision"
                + " only costs more, so there is nothing to fall back");
      } else {
        Recipe smoothed = smooth(base);
        List<RankedGroup> ranking = state.ranking();
        if (ranking == null) {
          ranking = rank(smoothed, groups, reference());
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
        base = repair(base, smoothed, ranking, start);
        Trial repaired = state.trial(RecipeIO.sha256(base.resolved()));
        if (repaired != null && !repaired.passed() && !repaired.qualityPassed()) {
          fallback(base, state.rankedGroups());
        }
      }
    }
    confirm();
    return finish();
  }

  /** The FP32 outputs on the ranking samples, computed when first needed. */
  private ReferenceOutputs reference() {
    ReferenceOutputs r = reference;
    if (r == null) {
      List<Batch> data = ReferenceOutputs.read(in.data().get(0).source(), opt.rankSamples());
      r = new ReferenceOutputs(fp32, data, List.of(), opt.session());
      reference = r;
    }
    return r;
  }

  /**
   * SmoothQuant's α searched for the whole model (the migration strength is a property of the
   * model's activation statistics more than of one layer): the α whose fully quantized model has
   * the highest output SQNR on the ranking samples, if it beats the start recipe by {@value
   * #MIN_REPAIR_GAIN_DB} dB.
   */
  private Recipe smooth(Recipe base) {
    if (!opt.repairs().contains("smooth") || base.resolved().smooth() != null) {
      return base;
    }
    List<ChosenRepair> chosen = state.globalRepairs();
    if (chosen == null) {
      double before = reference().outputSqnr(Quantizer.quantize(cal, base, q).model()).db();
      double best = before + MIN_REPAIR_GAIN_DB;
      Double alpha = null;
      for (double a : SMOOTH_ALPHAS) {
        double db =
            reference()
                .outputSqnr(Quantizer.quantize(cal, base.toBuilder().smooth(a).build(), q).model())
                .db();
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
              : List.of(new ChosenRepair(EVERY_NODE, "smooth " + alpha, before, best));
      state.globalRepairs(chosen);
    }
    if (chosen.isEmpty()) {
      return base;
    }
    ChosenRepair c = chosen.get(0);
    double alpha = Double.parseDouble(c.repair().substring("smooth ".length()));
    return base.toBuilder()
        .smooth(alpha)
        .rationale(
            String.format(
                Locale.ROOT,
                "%s; tune: SmoothQuant α %.2f on every MatMul/Gemm with constant weights: model output"
                    + " SQNR %.2f → %.2f dB",
                base.rationale() == null ? "tuned" : base.rationale(),
                alpha,
                c.beforeDb(),
                c.afterDb()))
        .build();
  }

  /**
   * Evaluates the best passing recipe once more, on the held-out confirmation data when there is
   * some: a pass that rests on a noisy latency measurement, a lucky split or a recipe tuned to the
   * edge of the validation data should not become the answer. A recipe counts as passing only when
   * every evaluation of it passed; when the confirmation fails, the next best is confirmed, while
   * the budget lasts.
   */
  private void confirm() {
    while (true) {
      List<Trial> candidates = standing(state.trials());
      Trial best = candidates.stream().min(Trial::compare).orElse(null);
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
      Recipe recipe = RecipeIO.read(recipeFile(best.index()));
      Trial again =
          evaluateTrial(
              "confirm",
              recipe,
              best.higherPrecision(),
              "trial "
                  + best.index()
                  + (in.confirmData().isEmpty() ? " again" : " on held-out data"));
      if (again == null || again.passed()) {
        return;
      }
      log("trial " + best.index() + " did not pass again: it is not the answer");
    }
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

  // ---- ranking ------------------------------------------------------------------------------

  private List<RankedGroup> rank(Recipe base, List<List<String>> groups, ReferenceOutputs ref) {
    List<String> all = groups.stream().flatMap(List::stream).toList();
    List<RankedGroup> out = new ArrayList<>();
    int i = 0;
    for (List<String> g : groups) {
      double db = aloneSqnr(base, g, all, List.of(), ref);
      String op = fp32.graph().node(g.get(0)).map(Node::opType).orElse("?");
      out.add(new RankedGroup(g, op, db));
      opt.progress().update("ranking", ++i, groups.size());
    }
    out.sort(Comparator.comparingDouble(RankedGroup::outputSqnrDb));
    return out;
  }

  /** Output SQNR with only {@code group} quantized (plus {@code extra} overrides). */
  private double aloneSqnr(
      Recipe base,
      List<String> group,
      List<String> all,
      List<Recipe.Override> extra,
      ReferenceOutputs ref) {
    Recipe alone = RecipeEdits.only(base, group, all).toBuilder().addOverrides(extra).build();
    QuantizationResult res = Quantizer.quantize(cal, alone, q);
    return ref.outputSqnr(res.model()).db();
  }

  // ---- repairs ------------------------------------------------------------------------------

  /**
   * Per-group repairs on top of the whole-model ones ({@code smoothed}), for the most sensitive
   * groups; one trial of all of them together, kept when it is closer to the policy than {@code
   * start}. Returns the recipe the fallback search starts from.
   */
  private Recipe repair(Recipe base, Recipe smoothed, List<RankedGroup> ranking, Trial start) {
    if (opt.repairs().isEmpty() || (opt.repairTop() == 0 && smoothed == base)) {
      return base;
    }
    List<ChosenRepair> chosen = state.repairs();
    ResolvedRecipe resolved = ResolvedRecipe.of(smoothed);
    List<String> all = ranking.stream().flatMap(g -> g.nodes().stream()).toList();
    if (chosen == null) {
      ReferenceOutputs ref = reference();
      chosen = new ArrayList<>();
      Set<String> repairedTensors = new LinkedHashSet<>();
      int top = Math.min(opt.repairTop(), ranking.size());
      for (int i = 0; i < top; i++) {
        RankedGroup g = ranking.get(i);
        for (String node : g.nodes()) {
          Repair best = null;
          double bestDb = g.outputSqnrDb() + MIN_REPAIR_GAIN_DB;
          for (Repair r : Repair.candidates(fp32.graph(), node, resolved, opt.repairs())) {
            boolean clash =
                r.overrides().stream()
                    .anyMatch(o -> o.tensor() != null && repairedTensors.contains(o.tensor()));
            if (clash) {
              continue; // a more sensitive node already chose this tensor's calibrator
            }
            double db = aloneSqnr(smoothed, g.nodes(), all, r.overrides(), ref);
            log(
                String.format(
                    Locale.ROOT,
                    "  %s: %s → %.2f dB (was %.2f)",
                    node,
                    r.name(),
                    db,
                    g.outputSqnrDb()));
            if (db > bestDb) {
              best = r;
              bestDb = db;
            }
          }
          if (best != null) {
            chosen.add(new ChosenRepair(node, best.name(), g.outputSqnrDb(), bestDb));
            best.overrides().stream()
                .filter(o -> o.tensor() != null)
                .forEach(o -> repairedTensors.add(o.tensor()));
          }
        }
        opt.progress().update("repairs", i + 1, top);
      }
      state.repairs(chosen);
    }
    if (chosen.isEmpty() && smoothed == base) {
      log("no repair raised a sensitive group's SQNR by " + MIN_REPAIR_GAIN_DB + " dB");
      return base;
    }
    List<Recipe.Override> overrides = new ArrayList<>();
    for (ChosenRepair c : chosen) {
      Repair r =
          Repair.candidates(fp32.graph(), c.node(), resolved, opt.repairs()).stream()
              .filter(x -> x.name().equals(c.repair()))
              .findFirst()
              .orElseThrow();
      String why =
          String.format(
              Locale.ROOT,
              "tune: %s for %s: output SQNR with the node alone %.2f → %.2f dB",
              c.repair(),
              c.node(),
              c.beforeDb(),
              c.afterDb());
      r.overrides().forEach(o -> overrides.add(o.toBuilder().because(why)));
    }
    Recipe repaired = smoothed.toBuilder().addOverrides(overrides).build();
    Trial t =
        trial(
            "repair",
            repaired,
            0,
            (smoothed == base ? "" : "SmoothQuant and ") + chosen.size() + " node repairs");
    if (t == null) {
      return base;
    }
    boolean better = Trial.compare(t, start) < 0;
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

  // ---- fallback -----------------------------------------------------------------------------

  private void fallback(Recipe base, List<RankedGroup> ranking) {
    List<Fallback> ladder = new ArrayList<>();
    DataType weights = ResolvedRecipe.of(base).weightType();
    if (weights.bits() < 8) {
      ladder.add(Fallback.INT8_WEIGHTS);
    }
    ladder.add("fp16".equals(opt.fallback()) ? Fallback.FP16 : Fallback.FP32);
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
              withFallback(base, ranking, n, f),
              count(ranking, n),
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
              withFallback(base, ranking, mid, rung),
              count(ranking, mid),
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
    List<RankedGroup> kept = new ArrayList<>(ranking.subList(0, hi));
    Trial current =
        trial(
            "bisect",
            withFallback(base, kept, rung),
            count(kept),
            "the " + hi + " most sensitive groups at " + rung.label());
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

  private Recipe withFallback(Recipe base, List<RankedGroup> ranking, int k, Fallback f) {
    return withFallback(base, ranking.subList(0, k), f);
  }

  private Recipe withFallback(Recipe base, List<RankedGroup> groups, Fallback f) {
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

  private static int count(List<RankedGroup> ranking, int k) {
    return count(ranking.subList(0, k));
  }

  private static int count(List<RankedGroup> groups) {
    return groups.stream().mapToInt(g -> g.nodes().size()).sum();
  }

  // ---- trials -------------------------------------------------------------------------------

  /** Evaluates a recipe (or takes its earlier result); null when the budget is spent. */
  private @Nullable Trial trial(
      String phase, Recipe recipe, int higherPrecision, String description) {
    Trial cached = state.trial(RecipeIO.sha256(recipe.resolved()));
    return cached != null ? cached : evaluateTrial(phase, recipe, higherPrecision, description);
  }

  /** Evaluates a recipe on the full data; null when the budget is spent. */
  private @Nullable Trial evaluateTrial(
      String phase, Recipe recipe, int higherPrecision, String description) {
    String sha = RecipeIO.sha256(recipe.resolved());
    if (state.trials().size() >= opt.budget()) {
      log("budget of " + opt.budget() + " evaluations spent");
      return null;
    }
    long t0 = System.nanoTime();
    int index = state.trials().size() + 1;
    Path dir = out.resolve("trials");
    Path model = dir.resolve(String.format(Locale.ROOT, "%03d.onnx", index));
    EvaluationReport report;
    try {
      Files.createDirectories(dir);
      QuantizationResult r = Quantizer.quantize(cal, recipe, q);
      ModelIO.save(r.model(), model);
      report =
          evaluate(
              model,
              "confirm".equals(phase) && !in.confirmData().isEmpty()
                  ? in.confirmData()
                  : in.data());
      Files.writeString(reportFile(index), ReportWriter.json(report));
      Files.writeString(recipeFile(index), RecipeIO.toYaml(recipe));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      try {
        Files.deleteIfExists(model);
      } catch (IOException e) {
        // a leftover trial model is harmless; the next run overwrites it
      }
    }
    Judgement j = in.policy().judge(report);
    Trial t =
        Trials.of(
            index,
            phase,
            sha,
            description,
            higherPrecision,
            report,
            j,
            (System.nanoTime() - t0) / 1e9);
    state.add(t);
    log(Trials.line(t));
    return t;
  }

  private Path reportFile(int index) {
    return out.resolve("trials").resolve(String.format(Locale.ROOT, "%03d.report.json", index));
  }

  private Path recipeFile(int index) {
    return out.resolve("trials").resolve(String.format(Locale.ROOT, "%03d.recipe.yaml", index));
  }

  private EvaluationReport evaluate(Path candidate, List<Evaluation.Data> data) {
    Evaluation.Builder b =
        Evaluation.builder()
            .baseline("fp32", in.model())
            .candidate("tuned", candidate)
            .task(Tasks.parse(in.taskSpec()), in.taskSpec())
            .batchSize(opt.batchSize())
            .session(opt.session())
            .bootstrap(new Bootstrap(opt.bootstrap(), 0.95, opt.seed()));
    for (Evaluation.Data d : data) {
      b.data(d.name(), d.source());
    }
    in.sliceBy().forEach(b::sliceBy);
    return b.build().run();
  }

  // ---- results ------------------------------------------------------------------------------

  private TuneResult finish() {
    List<Trial> trials = state.trials();
    Trial best = standing(trials).stream().min(Trial::compare).orElseThrow();
    Recipe recipe;
    try {
      recipe = RecipeIO.read(recipeFile(best.index()));
    } catch (InvalidInputException e) {
      throw new IllegalStateException("the tuning state lost trial " + best.index(), e);
    }
    QuantizationResult model = Quantizer.quantize(cal, recipe, q);
    EvaluationReport report = ReportReader.read(reportFile(best.index()));
    List<RankedGroup> ranking = state.ranking();
    List<ChosenRepair> repairs = state.repairs();
    TuneResult result =
        new TuneResult(
            in.model().toString(),
            in.policy().name(),
            best.passed(),
            best,
            decisions(recipe),
            ranking == null ? List.of() : ranking, // none: the start recipe passed
            trials,
            repairs == null ? List.of() : repairs,
            state.repairsAdopted(),
            trials.size(),
            opt.budget(),
            (System.nanoTime() - started) / 1e9);
    TuneOutput.write(out, result, recipe, model.model(), report);
    return result;
  }

  private static List<Decision> decisions(Recipe recipe) {
    List<Decision> out = new ArrayList<>();
    for (Recipe.Override o : ResolvedRecipe.of(recipe).overrides()) {
      String rationale = o.rationale();
      String target = o.node() != null ? o.node() : o.tensor();
      if (rationale == null || !rationale.startsWith("tune: ") || target == null) {
        continue;
      }
      String action =
          Arrays.stream(Fallback.values())
              .filter(f -> f.override(target, rationale).equals(o))
              .findFirst()
              .map(f -> "fallback: " + f.label())
              .orElse("repair");
      out.add(new Decision(List.of(target), action, rationale.substring(6)));
    }
    return out;
  }

  private void log(String line) {
    opt.log().accept(line);
  }
}

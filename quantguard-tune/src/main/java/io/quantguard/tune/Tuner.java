package io.quantguard.tune;

import io.quantguard.evaluate.Evaluation;
import io.quantguard.evaluate.Slicer;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.quantize.Calibration;
import io.quantguard.quantize.QuantizationPlan;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.ResolvedRecipe;
import io.quantguard.report.Policy;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.DataSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Accuracy-aware mixed precision: finds the recipe that meets a policy with the fewest nodes in
 * higher precision, choosing per node between static int8, dynamic int8 and a fallback precision.
 *
 * <ol>
 *   <li>Calibrate once; every later recipe reuses the statistics.
 *   <li>Rank the units (the static fallback groups of {@link Quantizer#staticGroups} and each
 *       dynamically quantized node of a dynamic or mixed start recipe) by the SQNR of the model's
 *       outputs with only that unit quantized, on the first {@code rankSamples} samples.
 *   <li>Evaluate the start recipe on the full data; stop if the policy holds.
 *   <li>Repair before fallback: for the most sensitive groups try each {@link Repair} on the group
 *       alone (switching a static MatMul to dynamic int8 is one of them), keep those that raise its
 *       SQNR by at least {@value #MIN_REPAIR_GAIN_DB} dB, and evaluate them together once; keep
 *       them if the candidate got closer to the policy, its measured latency included.
 *   <li>Quantization-aware training, when asked for ({@link TrainingRepair}): once, on the recipe
 *       so far with every group quantized, distilled from FP32 within a step budget; the trained
 *       weights quantized with that recipe are one more trial. The trained model is kept in the
 *       output directory, so a resumed run measures it without training again. The fallback below
 *       still starts from the original weights: trained weights fit the quantization grid and are
 *       worse in float, so a group in fp32 there would not regain what it lost.
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
 * The decisions are {@link Search}'s; the trials run on a {@link TrialRunner} (here the local
 * {@code LocalTrialRunner}) and what was learned lives in a {@link TuneState}.
 */
public final class Tuner {
  /** A repair must raise its group's output SQNR by this much to be tried in a full evaluation. */
  static final double MIN_REPAIR_GAIN_DB = 0.5;

  /** SmoothQuant migration strengths tried for the whole model. */
  static final double[] SMOOTH_ALPHAS = {0.5, 0.6, 0.7, 0.75, 0.8, 0.9};

  /** How a repair of the whole model names its target. */
  static final String EVERY_NODE = "(every eligible node)";

  /**
   * How the rationale of a recipe quantized from the weights quantization-aware training made
   * begins its note: the runner measures such a recipe on the trained model, and the recipe's hash
   * differs from the same recipe on the original weights.
   */
  static final String TRAINED = "tune: quantization-aware training";

  /**
   * What to tune.
   *
   * @param model the FP32 model file (the baseline of every evaluation)
   * @param start the recipe to start from (static, dynamic or mixed: its static and dynamic nodes
   *     are the ones tuned)
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
   * @param qatSteps the most steps of quantization-aware training, when {@code repairs} has {@code
   *     qat}
   * @param fallback the last rung of the precision ladder
   * @param log one line per step, for people watching
   */
  public record Options(
      int budget,
      int rankSamples,
      int repairTop,
      Set<String> repairs,
      long qatSteps,
      FallbackPrecision fallback,
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
          200,
          FallbackPrecision.FP32,
          32,
          500,
          42,
          SessionConfig.defaults(),
          Progress.NONE,
          s -> {});
    }
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
    private int budget;
    private int rankSamples;
    private int repairTop;
    private Set<String> repairs;
    private long qatSteps;
    private FallbackPrecision fallback;
    private int batchSize;
    private int bootstrap;
    private long seed;
    private SessionConfig session;
    private Progress progress;
    private Consumer<String> log;

    private Builder() {
      Options d = Options.defaults();
      budget = d.budget();
      rankSamples = d.rankSamples();
      repairTop = d.repairTop();
      repairs = d.repairs();
      qatSteps = d.qatSteps();
      fallback = d.fallback();
      batchSize = d.batchSize();
      bootstrap = d.bootstrap();
      seed = d.seed();
      session = d.session();
      progress = d.progress();
      log = d.log();
    }

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

    /** The search settings, replacing every one set so far. */
    public Builder options(Options o) {
      budget = o.budget();
      rankSamples = o.rankSamples();
      repairTop = o.repairTop();
      repairs = o.repairs();
      qatSteps = o.qatSteps();
      fallback = o.fallback();
      batchSize = o.batchSize();
      bootstrap = o.bootstrap();
      seed = o.seed();
      session = o.session();
      progress = o.progress();
      log = o.log();
      return this;
    }

    /** The most full evaluations to spend, the start recipe's included. */
    public Builder budget(int evaluations) {
      this.budget = evaluations;
      return this;
    }

    /** Samples of the first data set that rank groups and pick repairs. */
    public Builder rankSamples(int samples) {
      this.rankSamples = samples;
      return this;
    }

    /** How many of the most sensitive groups get repair candidates. */
    public Builder repairTop(int groups) {
      this.repairTop = groups;
      return this;
    }

    /** The repair kinds to try ({@link Repair#KINDS}); empty: none. */
    public Builder repairs(Set<String> kinds) {
      this.repairs = Set.copyOf(kinds);
      return this;
    }

    /**
     * The most steps quantization-aware training may take, when the repairs include {@code qat}: it
     * runs once, so this bounds the time it adds to the search.
     */
    public Builder qatSteps(long steps) {
      this.qatSteps = steps;
      return this;
    }

    /** The last rung of the precision ladder. */
    public Builder fallback(FallbackPrecision precision) {
      this.fallback = precision;
      return this;
    }

    public Builder batchSize(int size) {
      this.batchSize = size;
      return this;
    }

    /** Bootstrap resamples of every evaluation's confidence intervals. */
    public Builder bootstrap(int resamples) {
      this.bootstrap = resamples;
      return this;
    }

    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    public Builder session(SessionConfig config) {
      this.session = config;
      return this;
    }

    public Builder progress(Progress progress) {
      this.progress = progress;
      return this;
    }

    /** One line per step, for people watching. */
    public Builder log(Consumer<String> log) {
      this.log = log;
      return this;
    }

    /** How to search, as {@link #run(Inputs, Options, Path)} takes it. */
    public Options options() {
      return new Options(
          budget,
          rankSamples,
          repairTop,
          repairs,
          qatSteps,
          fallback,
          batchSize,
          bootstrap,
          seed,
          session,
          progress,
          log);
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
      return Tuner.run(inputs(), options(), out);
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
    TrainingRepair training = opt.repairs().contains("qat") ? TrainingRepair.find() : null;
    if (Files.exists(out) && !Files.isDirectory(out)) {
      throw InvalidInputException.forParameter(
          "tune.out", out, "is a file, not a directory", "give a directory for the results");
    }
    boolean fresh = !Files.exists(out);
    TuneState state = TuneState.open(out, TuneState.key(in, opt));
    try {
      return search(in, opt, out, state, training);
    } catch (InvalidInputException e) {
      if (fresh && state.trials().isEmpty()) {
        Directories.deleteTree(out); // nothing learned: leave no half-made results behind
      }
      throw e;
    }
  }

  private static TuneResult search(
      Inputs in, Options opt, Path out, TuneState state, @Nullable TrainingRepair training) {
    long started = System.nanoTime();
    Quantizer.Options q = new Quantizer.Options(opt.session(), Progress.NONE);
    OnnxModel fp32 = ModelIO.load(in.model());
    opt.log().accept("calibrating on " + in.calibration().name());
    Calibration cal = Quantizer.calibrate(fp32, in.start(), in.calibration(), q);
    Set<String> dynamic = new LinkedHashSet<>();
    for (QuantizationPlan.Step s : Quantizer.plan(cal.plan(), in.start()).quantized()) {
      if (s.mode() == Recipe.Mode.DYNAMIC) {
        dynamic.add(s.node());
      }
    }
    List<List<String>> groups = new ArrayList<>(Quantizer.staticGroups(cal, in.start()));
    dynamic.forEach(n -> groups.add(List.of(n)));
    if (groups.isEmpty()) {
      throw new InvalidInputException(
          "the start recipe",
          "quantizes no node statically or dynamically in " + in.model(),
          "check its mode, op_types and exclude against the model's operators");
    }
    Path trialsDir = state.trialsDir();
    LocalTrialRunner runner =
        new LocalTrialRunner(
            in, opt, trialsDir != null ? trialsDir : out.resolve("trials"), fp32, cal);
    Search.Training qat =
        training == null
            ? null
            : new Search.Training() {
              @Override
              public TrainingRepair.Result train(Recipe recipe) {
                return training.train(
                    new TrainingRepair.Request(
                        fp32, recipe, in.calibration(), opt.qatSteps(), opt.seed(), q));
              }

              @Override
              public void measureOn(OnnxModel trained) {
                runner.trainedWeights(trained);
              }
            };
    Search search =
        new Search(
            cal.plan().model().graph(), // the graph the groups name (fused, with optimize)
            groups,
            dynamic,
            in.start(),
            runner,
            state,
            opt,
            !in.confirmData().isEmpty(),
            qat);
    search.run();
    Trial best = search.best();
    Recipe recipe = state.recipe(best);
    List<RankedGroup> ranking = state.ranking();
    List<ChosenRepair> repairs = state.repairs();
    List<Trial> trials = state.trials();
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
            state.training(),
            trials.size(),
            opt.budget(),
            (System.nanoTime() - started) / 1e9);
    TuneOutput.write(out, result, recipe, runner.quantize(recipe), runner.report(best.index()));
    return result;
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
    for (String r : opt.repairs()) {
      if (!Repair.KINDS.contains(r)) {
        throw InvalidInputException.forParameter(
            "tune.repairs", r, "is not a repair", "use any of " + String.join(", ", Repair.KINDS));
      }
    }
    if (opt.repairs().contains("qat") && opt.qatSteps() < 1) {
      throw InvalidInputException.forParameter(
          "tune.qatSteps",
          opt.qatSteps(),
          "must be at least 1 when quantization-aware training is a repair",
          "give the most training steps, e.g. 200");
    }
    ResolvedRecipe.of(in.start(), "the start recipe"); // a misspelt recipe fails here
    if (in.policy().rules().stream().allMatch(r -> r.limitsCost())) {
      throw new InvalidInputException(
          in.policy().source(),
          "has no rule on what the model computes (only cost rules)",
          "add a quality rule, e.g. accuracy: {max_drop: 0.5%} or cosine: {min: 0.99}");
    }
  }

  private static List<Decision> decisions(Recipe recipe) {
    List<Decision> out = new ArrayList<>();
    String note = recipe.rationale();
    int at = note == null ? -1 : note.indexOf(TRAINED);
    if (note != null && at >= 0) {
      out.add(
          new Decision(
              List.of(EVERY_NODE),
              "repair: quantization-aware training",
              note.substring(at + "tune: ".length())));
    }
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
              .orElse(
                  Recipe.Mode.DYNAMIC.spelling().equals(o.mode())
                      ? "mode: dynamic int8"
                      : "repair");
      if (action.startsWith("fallback")) {
        // a fallback overrides what an earlier repair or mode switch did to the same node
        out.removeIf(d -> d.nodes().equals(List.of(target)) && !d.action().startsWith("fallback"));
      }
      out.add(new Decision(List.of(target), action, rationale.substring(6)));
    }
    return out;
  }
}

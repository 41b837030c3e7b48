package io.quantguard.workflow;

import io.quantguard.evaluate.Evaluation;
import io.quantguard.onnx.CpuFeatures;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.qat.LibTorch;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.report.AtomicFile;
import io.quantguard.report.Gate;
import io.quantguard.report.Policy;
import io.quantguard.report.ReportReader;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.ResourceLocator;
import io.quantguard.runtime.data.DataSpec;
import io.quantguard.tune.SensitivityAnalysis;
import io.quantguard.tune.SensitivityReport;
import io.quantguard.tune.Tuner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The whole offline workflow for one project, as one resumable run:
 *
 * <ol>
 *   <li><b>baseline</b> — the FP32 model evaluated on every test slice (against a second run of
 *       itself, which also shows the run-to-run noise of the latency figures);
 *   <li><b>approach</b> — static, dynamic, weight-only or fp16, recommended from the op mix, the
 *       CPU's instruction sets and a quick static probe ({@link Recommendation});
 *   <li><b>tune</b> — for a static approach, the {@link Tuner} search against the policy from the
 *       start recipe; otherwise the model quantized in that mode;
 *   <li><b>evaluate</b> — the final evaluation of the candidate against FP32 on every test and
 *       confirmation slice;
 *   <li><b>gate</b> — the policy judged on that report ({@link Gate}: JUnit XML and Markdown);
 *   <li><b>register</b> — the FP32 model ({@code NAME-fp32}) and the candidate ({@code NAME}, its
 *       child in the lineage) in the registry, with the report and the verdict;
 *   <li><b>rollout</b> — when the project configures one, a candidate that passed the gate is put
 *       in the registry as a rollout for {@code quantguard serve} to run ({@link RollingOut}).
 * </ol>
 *
 * This class sequences the steps and keys them; each step's work is its own class ({@link
 * Evaluating}, {@link Recommendation}, {@link Tuning}, {@link Gating}, {@link Registering}, {@link
 * RollingOut}) over the project's settings as {@link ProjectInputs} resolves them.
 *
 * <p>Each step's output lives in {@code OUT/steps/STEP/}, keyed by a content hash of its inputs
 * (files by their SHA-256): a second run reuses every step whose inputs did not change. The run
 * ends with {@code OUT/summary.html}, linking the detailed reports.
 *
 * <pre>{@code
 * WorkflowResult r = Workflow.builder()
 *     .project(Project.read(Path.of("quantguard.yaml")))
 *     .out(Path.of("quantguard-out/run"))
 *     .build()
 *     .run();
 * if (!r.passed()) { ... }
 * }</pre>
 */
public final class Workflow {
  /** The steps, in order: their directory names under {@code steps/}. */
  public static final List<String> STEPS =
      List.of("baseline", "approach", "tune", "evaluate", "gate", "register");

  private final Project project;
  private final Path out;
  private final Listener listener;
  private final StepStore store;
  private final ProjectInputs in;
  private final Tuning tuning;

  private Workflow(Builder b) {
    this.project = Objects.requireNonNull(b.project, "project"); // build() checked it
    this.out = b.out.toAbsolutePath();
    this.listener = b.listener;
    this.store = new StepStore(out.resolve("steps"));
    this.in = new ProjectInputs(project, listener);
    this.tuning = new Tuning(in, out);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** What a run shows while it works: steps starting and ending, progress within a step. */
  public interface Listener {
    Listener NONE = new Listener() {};

    /** A step starts ({@code index} from 1 of {@code total}). */
    default void stepStarted(int index, int total, String step, String title) {}

    /** A step ended, run now or reused from an earlier run; {@code line} says what it found. */
    default void stepFinished(Step step) {}

    /** One line of detail within a step (tuning trials, for instance). */
    default void log(String line) {}

    /** Progress within a step (samples done). */
    default Progress progress() {
      return Progress.NONE;
    }
  }

  /** Sets up a {@link Workflow}; the project is required. */
  public static final class Builder {
    private @Nullable Project project;
    private Path out = Path.of("quantguard-out", "run");
    private Listener listener = Listener.NONE;

    private Builder() {}

    public Builder project(Project p) {
      this.project = p;
      return this;
    }

    /** Where the steps, the reports and {@code summary.html} go (default quantguard-out/run). */
    public Builder out(Path dir) {
      this.out = Objects.requireNonNull(dir);
      return this;
    }

    public Builder listener(Listener l) {
      this.listener = Objects.requireNonNull(l);
      return this;
    }

    public Workflow build() {
      if (project == null) {
        throw new InvalidInputException(
            "Workflow.project", "is required", "read one with Project.read(quantguard.yaml)");
      }
      if (Files.exists(out) && !Files.isDirectory(out)) {
        throw new InvalidInputException(
            out.toString(), "is a file, not a directory", "give a directory for the results");
      }
      return new Workflow(this);
    }
  }

  // ------------------------------------------------------------------ step results

  /** One step as the summary shows it. */
  public record Step(
      int index, String name, String title, boolean reused, double seconds, String line) {}

  /** The FP32 model's primary metric per slice, and its latency. */
  public record Baseline(
      String metric,
      Map<String, @Nullable Double> perSlice,
      @Nullable Double value,
      double latencyP95Ms) {}

  /**
   * The candidate the tune step produced.
   *
   * @param model the candidate's file, relative to the output directory
   * @param tuned whether the {@link Tuner} searched (static approach)
   * @param tuningPassed whether tuning met the policy on its data (null without tuning)
   * @param higherPrecision nodes kept in higher precision by tuning
   * @param trained whether the weights were trained quantization-aware (the {@code qat} approach)
   */
  public record Candidate(
      Recipe.Mode approach,
      String model,
      String recipe,
      String recipeSha256,
      boolean tuned,
      @Nullable Boolean tuningPassed,
      int evaluations,
      int budget,
      int higherPrecision,
      List<String> decisions,
      boolean trained) {}

  /** The final evaluation's headline: the primary metric of FP32 and of the candidate. */
  public record Final(
      String metric,
      @Nullable Double baseline,
      @Nullable Double candidate,
      @Nullable Double delta,
      @Nullable Double latencyRatio,
      @Nullable Double sizeRatio,
      @Nullable String worstSlice) {}

  /** The gate's verdict. */
  public record Verdict(boolean passed, String policy, List<String> failures, int checks) {}

  /** What was registered. */
  public record Registered(String location, String parent, String candidate) {}

  /**
   * The rollout the run started, or found, in the registry for {@code quantguard serve} to run.
   *
   * @param status {@code started}, where an earlier run's rollout stands ({@code under way (...)},
   *     {@code promoted}, {@code rolled back}), or why none was started
   * @param baseline the production version the candidate is judged against (null when none started)
   * @param serve the command that serves the rollout
   */
  public record Rollout(
      String status,
      String candidate,
      @Nullable String baseline,
      String mode,
      List<Integer> steps,
      String policy,
      String serve) {}

  // ------------------------------------------------------------------ the run

  /** Runs (or resumes) every step and writes the summary. */
  public WorkflowResult run() {
    Path modelFile = ResourceLocator.resolve(project.reference(project.model())).toAbsolutePath();
    OnnxModel fp32Check = ModelIO.load(modelFile); // refuses a broken model before any work
    Map<String, Integer> mix = Recommendation.opMix(fp32Check);
    String policyText = in.policyText();
    Policy policy = Policy.parse(policyText, project.source() + ": policy");
    Path policyFile = AtomicFile.write(out.resolve("policy.yaml"), policyText);
    Recipe start = in.startRecipe();
    String startSha = RecipeIO.sha256(start.resolved());
    List<Evaluation.Data> test = in.dataSets(project.data().test());
    List<Evaluation.Data> confirm = in.dataSets(project.data().confirm());
    List<String> testSpecs = in.specs(project.data().test());
    List<String> confirmSpecs = in.specs(project.data().confirm());
    String calibration = project.calibrationSpec();
    DataSpec.parse(calibration); // a bad spec fails here, before any step
    String evalSettings = in.evaluationSettings();
    List<Step> steps = new ArrayList<>();
    int total = STEPS.size() + (project.rollout() != null ? 1 : 0);
    String livePolicy = project.rollout() == null ? null : in.livePolicyText(project.rollout());

    // 1. baseline
    listener.stepStarted(1, total, "baseline", "FP32 baseline");
    StepStore.Outcome<Baseline> baseline =
        store.run(
            "baseline",
            key("baseline", modelFile.toString(), project.task(), evalSettings, testSpecs),
            Baseline.class,
            dir -> Evaluating.baseline(in, modelFile, test, dir));
    steps.add(
        finished(
            1,
            "baseline",
            "FP32 baseline",
            baseline,
            baseline.result().metric()
                + " "
                + fmt(baseline.result().value())
                + " (FP32), p95 latency "
                + fmt(baseline.result().latencyP95Ms())
                + " ms per batch"));

    // A rule on a metric this task does not measure fails here, not after minutes of tuning.
    policy.judge(ReportReader.read(store.dir("baseline").resolve("report").resolve("report.json")));

    // 2. approach
    listener.stepStarted(2, total, "approach", "recommended approach");
    CpuFeatures cpu = CpuFeatures.detect();
    StepStore.Outcome<Recommendation> approach =
        store.run(
            "approach",
            key(
                "approach",
                modelFile.toString(),
                calibration,
                testSpecs.get(0),
                startSha,
                project.approach(),
                cpu.int8DotProduct(),
                String.valueOf(in.probeSamples())),
            Recommendation.class,
            dir -> recommend(fp32Check, mix, start, calibration, cpu, dir));
    steps.add(
        finished(
            2,
            "approach",
            "recommended approach",
            approach,
            approach.result().approach()
                + (approach.result().quantizationAware() ? " (quantization-aware training)" : "")
                + ": "
                + approach.result().reason()));

    // 3. tune (or quantize)
    listener.stepStarted(3, total, "tune", "tuning against the policy");
    ProjectInputs.Search search = in.search();
    StepStore.Outcome<Candidate> candidate =
        store.run(
            "tune",
            key(
                "tune",
                modelFile.toString(),
                approach.result().approach().spelling(),
                String.valueOf(approach.result().quantizationAware()),
                project.namesQuantizationAwareTraining() ? project.qatKeyParts() : "",
                startSha,
                calibration,
                project.task(),
                policyText,
                search.toString(),
                evalSettings,
                testSpecs,
                confirmSpecs),
            Candidate.class,
            dir ->
                tuning.candidate(
                    modelFile,
                    approach.result().approach(),
                    approach.result().quantizationAware(),
                    start,
                    calibration,
                    test,
                    confirm,
                    policy,
                    search,
                    dir));
    Candidate c = candidate.result();
    steps.add(finished(3, "tune", "tuning against the policy", candidate, Tuning.describe(c)));
    Path candidateFile = out.resolve(c.model());

    // 4. final evaluation on every slice
    listener.stepStarted(4, total, "evaluate", "final evaluation on every slice");
    StepStore.Outcome<Final> fin =
        store.run(
            "evaluate",
            key(
                "evaluate",
                modelFile.toString(),
                candidateFile.toString(),
                project.task(),
                String.valueOf(project.data().sliceBy()),
                evalSettings,
                testSpecs,
                confirmSpecs),
            Final.class,
            dir -> Evaluating.finalEvaluation(in, modelFile, candidateFile, test, confirm, dir));
    Path report = store.dir("evaluate").resolve("report").resolve("report.json");
    steps.add(
        finished(
            4,
            "evaluate",
            "final evaluation on every slice",
            fin,
            fin.result().metric()
                + " "
                + fmt(fin.result().candidate())
                + " vs FP32 "
                + fmt(fin.result().baseline())
                + ", p95 latency ×"
                + fmt(fin.result().latencyRatio())
                + ", size ×"
                + fmt(fin.result().sizeRatio())));

    // 5. gate
    listener.stepStarted(5, total, "gate", "gate verdict");
    StepStore.Outcome<Verdict> gate =
        store.run(
            "gate",
            key("gate", policyText, report.toString()),
            Verdict.class,
            dir -> Gating.gate(policyFile, report, dir));
    Verdict v = gate.result();
    steps.add(
        finished(
            5,
            "gate",
            "gate verdict",
            gate,
            (v.passed() ? "PASS" : "FAIL")
                + " policy '"
                + v.policy()
                + "'"
                + (v.failures().isEmpty() ? "" : ": " + String.join("; ", v.failures()))));

    // 6. register
    listener.stepStarted(6, total, "register", "registration with lineage");
    String location = project.registryLocation(out);
    StepStore.Outcome<Registered> registered =
        store.run(
            "register",
            key(
                "register",
                modelFile.toString(),
                candidateFile.toString(),
                report.toString(),
                location,
                project.name(),
                String.valueOf(v.passed()),
                String.valueOf(project.rollout() != null)),
            Registered.class,
            dir ->
                Registering.register(
                    location, project, modelFile, candidateFile, report, c, v, project.actor()));
    steps.add(
        finished(
            6,
            "register",
            "registration with lineage",
            registered,
            registered.result().candidate()
                + " ← "
                + registered.result().parent()
                + " in "
                + registered.result().location()));

    // 7. rollout (when the project configures one)
    Rollout rollout = null;
    if (project.rollout() != null && livePolicy != null) {
      listener.stepStarted(7, total, "rollout", "rollout ready to serve");
      long t0 = System.nanoTime();
      rollout =
          RollingOut.rollout(
              location,
              project,
              project.rollout(),
              livePolicy,
              registered.result(),
              v,
              project.actor());
      Step s =
          new Step(
              7,
              "rollout",
              "rollout ready to serve",
              false,
              (System.nanoTime() - t0) / 1e9,
              rollout.baseline() == null
                  ? rollout.status()
                  : rollout.mode()
                      + " "
                      + rollout.candidate()
                      + " against "
                      + rollout.baseline()
                      + ": "
                      + rollout.status()
                      + "; serve it: "
                      + rollout.serve());
      listener.stepFinished(s);
      steps.add(s);
    }

    WorkflowResult result =
        new WorkflowResult(
            project.name(),
            project.source(),
            out,
            steps,
            baseline.result(),
            approach.result(),
            c,
            fin.result(),
            v,
            registered.result(),
            rollout,
            out.resolve("summary.html"));
    AtomicFile.write(result.summary(), SummaryPage.html(result));
    return result;
  }

  private Step finished(int index, String name, String title, StepStore.Outcome<?> o, String line) {
    Step s = new Step(index, name, title, o.reused(), o.seconds(), line);
    listener.stepFinished(s);
    return s;
  }

  // ------------------------------------------------------------------ the steps

  private Recommendation recommend(
      OnnxModel fp32,
      Map<String, Integer> mix,
      Recipe start,
      String calibration,
      CpuFeatures cpu,
      Path dir) {
    Double sqnr = null;
    if (Recommendation.needsProbe(mix)) {
      Recipe probe = Tuning.staticRecipe(start);
      int n = in.probeSamples();
      SensitivityReport r =
          SensitivityAnalysis.run(
              fp32,
              probe,
              DataSpec.parse(calibration).head(n),
              DataSpec.parse(project.spec(project.data().test().values().iterator().next()))
                  .head(n),
              new SensitivityAnalysis.Options(0, null, 0, in.session(), listener.progress()));
      sqnr = r.fullOutputSqnrDb();
    }
    Recommendation rec = Recommendation.recommend(mix, cpu, sqnr, LibTorch::loads);
    return project
        .chosenApproach()
        .map(m -> rec.chosenByProject(m, project.namesQuantizationAwareTraining()))
        .orElse(rec);
  }

  private String key(String step, Object... parts) {
    List<String> all = new ArrayList<>();
    all.add(step);
    all.add(io.quantguard.onnx.QuantGuard.VERSION);
    for (Object p : parts) {
      if (p instanceof List<?> l) {
        l.forEach(x -> all.add(String.valueOf(x)));
      } else {
        all.add(String.valueOf(p));
      }
    }
    return store.key(all);
  }

  static String fmt(@Nullable Double v) {
    if (v == null) {
      return "n/a";
    }
    double a = Math.abs(v);
    return String.format(
        java.util.Locale.ROOT, a != 0 && a < 0.01 ? "%.2e" : a < 10 ? "%.4f" : "%.1f", v);
  }
}

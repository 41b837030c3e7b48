package io.quantguard.workflow;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.quantize.Recipe;
import io.quantguard.tune.FallbackPrecision;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * A project file ({@code quantguard.yaml}): everything one {@link Workflow} run needs, in one place
 * a team keeps under version control. Its grammar is the JSON schema {@code quantguard.schema.json}
 * beside this class; relative paths, in plain fields and inside data specs, are relative to the
 * file's directory.
 *
 * <pre>{@code
 * name: fashion-cnn
 * model: models/fashion_cnn_fp32.onnx
 * task: classification
 * data:
 *   calibration: idx:data/train-images-idx3-ubyte.gz?input=image&limit=500
 *   test:
 *     test: idx:data/t10k-images-idx3-ubyte.gz?input=image
 *   slice_by: label
 * policy: policies/release.yaml          # or the policy itself: {name: ..., rules: {...}}
 * start: recipes/w8a8.yaml               # or the recipe itself; default: int8 everywhere
 * search: {budget: 12}
 * registry: {location: registry}
 * rollout: {mode: canary, steps: [5, 25, 50, 100]}   # optional: start a rollout once the gate passes
 * }</pre>
 *
 * @param name the model's name in the registry (the FP32 model is registered as {@code NAME-fp32})
 * @param model the FP32 model: a path, a {@code maven:} reference or a known name
 * @param task the evaluation task spec ({@code classification}, {@code retrieval?k=10}, ...)
 * @param data the calibration data, the test slices and optional held-out confirmation data
 * @param policy the policy: a file, or the policy itself (an object)
 * @param start the start recipe: a file, the recipe itself (an object), or null for the default
 * @param approach {@code auto} (recommended from the model, the CPU and a probe), {@code static},
 *     {@code dynamic}, {@code weight-only}, {@code fp16} or {@code qat} (static, trained
 *     quantization-aware)
 * @param search how hard tuning may try
 * @param evaluation how evaluations run
 * @param registry where versions are registered
 * @param qat how quantization-aware training runs, when the approach is {@code qat}
 * @param rollout how a candidate that passed the gate is rolled out, or null for no rollout
 */
public record Project(
    String name,
    String model,
    String task,
    Data data,
    JsonNode policy,
    JsonNode start,
    String approach,
    Search search,
    EvaluationSettings evaluation,
    RegistrySettings registry,
    QatSettings qat,
    @Nullable RolloutSpec rollout,
    @JsonIgnore @Nullable Path base,
    @JsonIgnore String source) {

  /**
   * The mode the project names as its approach; empty for {@code auto}, where the workflow
   * recommends one.
   */
  public Optional<Recipe.Mode> chosenApproach() {
    if (QAT.equals(approach)) {
      return Optional.of(Recipe.Mode.STATIC);
    }
    return "auto".equals(approach) ? Optional.empty() : Recipe.Mode.find(approach);
  }

  /** Whether the project names quantization-aware training as its approach. */
  public boolean namesQuantizationAwareTraining() {
    return QAT.equals(approach);
  }

  private static final String QAT = "qat";

  /** The approaches a project may name; {@code auto} lets the workflow recommend one. */
  public static final List<String> APPROACHES =
      List.of("auto", "static", "dynamic", "weight-only", "fp16", QAT);

  /**
   * Quantization-aware training: the start recipe's static quantizers placed in the FP32 graph, its
   * weights fine-tuned through them, then exported with the ranges it trained with.
   *
   * @param data the training data (a data spec); default the calibration data
   * @param epochs passes over the data (default 1)
   * @param maxSteps the most optimizer steps (default: no limit)
   * @param lr Adam's learning rate (default 3e-5)
   * @param batchSize samples per step (default 64)
   * @param distill train towards the FP32 model's outputs instead of labels; default: labels when
   *     the data has them
   * @param validation held-out data (a data spec) whose loss is measured every {@code
   *     validateEvery} steps; the values of the best measurement are exported, not the last
   * @param validateEvery steps between validations (default 50)
   * @param patience stop after this many validations in a row without a better loss (default 0:
   *     never); needs {@code validation}
   * @param checkpoints checkpoint into the step's directory, so a rerun after a crash or a kill
   *     continues from there (default false)
   * @param checkpointEvery steps between checkpoints (default 50)
   */
  public record QatSettings(
      @Nullable String data,
      @Nullable Integer epochs,
      @JsonProperty("max_steps") @Nullable Integer maxSteps,
      @Nullable Double lr,
      @JsonProperty("batch_size") @Nullable Integer batchSize,
      @Nullable Boolean distill,
      @Nullable String validation,
      @JsonProperty("validate_every") @Nullable Integer validateEvery,
      @Nullable Integer patience,
      @Nullable Boolean checkpoints,
      @JsonProperty("checkpoint_every") @Nullable Integer checkpointEvery) {}

  /**
   * Data sets, each a data spec ({@code idx:...}, {@code text:...}, ...).
   *
   * @param calibration representative inputs for static quantization
   * @param test named test slices: every evaluation runs on all of them
   * @param confirm named held-out slices the tuned recipe must also pass on (optional)
   * @param sliceBy further slicing of the test data ({@code label}, {@code tokens=32,64}, ...)
   */
  public record Data(
      String calibration,
      Map<String, DataSet> test,
      Map<String, DataSet> confirm,
      @JsonProperty("slice_by") String sliceBy) {
    public Data {
      test = test == null ? Map.of() : new LinkedHashMap<>(test);
      confirm = confirm == null ? Map.of() : new LinkedHashMap<>(confirm);
    }
  }

  /**
   * One data set: a spec, and where the spec's format keeps labels apart from the inputs (an IDX
   * labels file), that file.
   */
  public record DataSet(String spec, @Nullable String labels) {
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    static DataSet of(String spec) {
      return new DataSet(spec, null);
    }

    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    static DataSet of(@JsonProperty("spec") String spec, @JsonProperty("labels") String labels) {
      return new DataSet(spec, labels);
    }
  }

  /**
   * The tuning search.
   *
   * @param budget the most full evaluations
   * @param rankSamples samples that rank the nodes by sensitivity
   * @param repairs repair kinds to try ({@code calibrator}, {@code weights}, {@code smooth}, {@code
   *     int16})
   * @param fallback the highest fallback precision, {@code fp32} or {@code fp16}
   */
  public record Search(
      @Nullable Integer budget,
      @JsonProperty("rank_samples") @Nullable Integer rankSamples,
      @Nullable List<String> repairs,
      @Nullable String fallback) {}

  /**
   * How evaluations run.
   *
   * @param batchSize samples per batch
   * @param bootstrap bootstrap resamples for the intervals
   * @param threads intra-op threads per session, 0 = every core
   * @param probeSamples samples the approach probe calibrates and measures on
   */
  public record EvaluationSettings(
      @JsonProperty("batch_size") @Nullable Integer batchSize,
      @Nullable Integer bootstrap,
      @Nullable Integer threads,
      @JsonProperty("probe_samples") @Nullable Integer probeSamples) {}

  /**
   * The registry.
   *
   * @param location a directory (SQLite) or a {@code jdbc:postgresql:} URL
   * @param actor who registers, recorded in the change log
   */
  public record RegistrySettings(@Nullable String location, @Nullable String actor) {}

  /**
   * The rollout a candidate that passed the gate starts in the registry, for {@code quantguard
   * serve} to run. Unset numbers take the server's defaults (canary 5, 25, 50, 100 %, judged every
   * 60 s on at least 200 paired samples, 2 failed intervals roll it back).
   *
   * @param mode {@code canary} (a share of traffic) or {@code shadow} (the candidate runs aside)
   * @param steps the candidate's share of traffic per canary step, in percent, ending at 100
   * @param intervalS seconds between judgements of the live window
   * @param minSamples paired samples a window needs to be judged
   * @param maxFailedIntervals failed intervals that roll the candidate back
   * @param policy the live policy (a file, or the policy itself) on the live window's metrics; null
   *     for the task's default ({@code flip_rate} for classification, {@code cosine_mean}
   *     otherwise)
   */
  public record RolloutSpec(
      @Nullable String mode,
      @Nullable List<Integer> steps,
      @JsonProperty("interval_s") @Nullable Double intervalS,
      @JsonProperty("min_samples") @Nullable Integer minSamples,
      @JsonProperty("max_failed_intervals") @Nullable Integer maxFailedIntervals,
      @Nullable JsonNode policy) {}

  private static final ObjectMapper YAML =
      new ObjectMapper(new YAMLFactory())
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

  /** Reads a project file; relative paths are relative to its directory. */
  public static Project read(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new InvalidInputException(
          file.toString(),
          "cannot be read: " + e.getMessage(),
          "give the path of a quantguard.yaml",
          e);
    }
    Path dir = file.toAbsolutePath().getParent();
    return parse(text, dir, file.toString());
  }

  /**
   * Parses a project's YAML; {@code base} is the directory relative paths start from and {@code
   * source} names the file in errors.
   */
  public static Project parse(String text, @Nullable Path base, String source) {
    Project p;
    try {
      p = YAML.readValue(text, Project.class);
    } catch (UnrecognizedPropertyException e) {
      throw new InvalidInputException(
          source + ": " + key(e),
          "is not a project setting",
          "use one of " + e.getKnownPropertyIds().stream().map(String::valueOf).sorted().toList());
    } catch (JsonMappingException e) {
      throw new InvalidInputException(
          source + (e.getPath().isEmpty() ? "" : ": " + key(e)),
          "is not valid: " + e.getOriginalMessage(),
          "see quantguard.schema.json for the project file's grammar",
          e);
    } catch (JsonProcessingException e) {
      throw new InvalidInputException(
          source, "is not YAML: " + e.getOriginalMessage(), "fix the syntax", e);
    }
    if (p == null) {
      throw new InvalidInputException(
          source, "is empty", "write at least model, task, data, policy");
    }
    p =
        new Project(
            p.name,
            p.model,
            p.task,
            p.data,
            p.policy,
            p.start,
            p.approach == null ? "auto" : p.approach,
            p.search == null ? new Search(null, null, null, null) : p.search,
            p.evaluation == null ? new EvaluationSettings(null, null, null, null) : p.evaluation,
            p.registry == null ? new RegistrySettings(null, null) : p.registry,
            p.qat == null
                ? new QatSettings(null, null, null, null, null, null, null, null, null, null, null)
                : p.qat,
            p.rollout,
            base,
            source);
    p.check();
    return p;
  }

  private static String key(JsonMappingException e) {
    return e.getPath().stream()
        .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
        .collect(Collectors.joining("."))
        .replace(".[", "[");
  }

  private void check() {
    require(name, "name", "the model's name in the registry, e.g. fashion-cnn");
    if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
      bad("name", "'" + name + "' is not a model name", "use letters, digits, '.', '_' and '-'");
    }
    require(
        model, "model", "the FP32 model: a path, maven:group:artifact:version!/entry or a name");
    require(task, "task", "the evaluation task, e.g. classification or retrieval?k=10");
    if (data == null) {
      bad("data", "is missing", "give data.calibration and data.test");
    }
    require(data.calibration(), "data.calibration", "a data spec of representative inputs");
    if (data.test().isEmpty()) {
      bad("data.test", "is missing or empty", "name at least one test slice: {NAME: SPEC}");
    }
    data.test().forEach((k, v) -> require(v.spec(), "data.test." + k, "a data spec"));
    data.confirm().forEach((k, v) -> require(v.spec(), "data.confirm." + k, "a data spec"));
    if (policy == null || policy.isNull()) {
      bad("policy", "is missing", "give a policy file or the policy itself: {rules: {...}}");
    }
    if (!policy.isTextual() && !policy.isObject()) {
      bad("policy", "is neither a file nor a policy", "give a path or {name: ..., rules: {...}}");
    }
    if (start != null && !start.isNull() && !start.isTextual() && !start.isObject()) {
      bad(
          "start",
          "is neither a file nor a recipe",
          "give a path or a recipe, e.g. {mode: static}");
    }
    if (!APPROACHES.contains(approach)) {
      bad("approach", "'" + approach + "' is not an approach", "use one of " + APPROACHES);
    }
    positive(search.budget(), "search.budget");
    positive(search.rankSamples(), "search.rank_samples");
    if (search.fallback() != null) {
      FallbackPrecision.parse(source + ": search.fallback", search.fallback());
    }
    positive(evaluation.batchSize(), "evaluation.batch_size");
    positive(evaluation.bootstrap(), "evaluation.bootstrap");
    positive(evaluation.probeSamples(), "evaluation.probe_samples");
    if (evaluation.threads() != null && evaluation.threads() < 0) {
      bad("evaluation.threads", "must not be negative", "give 0 (every core) or more");
    }
    positive(qat.epochs(), "qat.epochs");
    positive(qat.maxSteps(), "qat.max_steps");
    positive(qat.batchSize(), "qat.batch_size");
    if (qat.lr() != null && !(qat.lr() > 0 && qat.lr() < 1)) {
      bad("qat.lr", "must be above 0 and below 1, not " + qat.lr(), "e.g. 3e-5");
    }
    positive(qat.validateEvery(), "qat.validate_every");
    positive(qat.checkpointEvery(), "qat.checkpoint_every");
    if (qat.patience() != null && qat.patience() < 0) {
      bad("qat.patience", "must not be negative", "give 0 (never stop early) or more");
    }
    if (qat.validation() == null) {
      if (qat.patience() != null && qat.patience() > 0) {
        bad("qat.patience", "needs validation data to stop on", "give qat.validation");
      }
      if (qat.validateEvery() != null) {
        bad("qat.validate_every", "has no validation data to measure", "give qat.validation");
      }
    } else {
      require(qat.validation(), "qat.validation", "a data spec of held-out data");
    }
    if (qat.checkpointEvery() != null && !Boolean.TRUE.equals(qat.checkpoints())) {
      bad("qat.checkpoint_every", "is set but checkpoints are off", "set qat.checkpoints: true");
    }
    if (rollout != null
        && rollout.policy() != null
        && !rollout.policy().isNull()
        && !rollout.policy().isTextual()
        && !rollout.policy().isObject()) {
      bad(
          "rollout.policy",
          "is neither a file nor a policy",
          "give a path or {name: ..., rules: {flip_rate: {max: 2%}}}");
    }
  }

  private void require(String value, String key, String what) {
    if (value == null || value.isBlank()) {
      bad(key, "is missing", "give " + what);
    }
  }

  private void positive(@Nullable Integer value, String key) {
    if (value != null && value < 1) {
      bad(key, "must be at least 1, not " + value, "give a positive number");
    }
  }

  private void bad(String key, String problem, String fix) {
    throw new InvalidInputException(source + ": " + key, problem, fix);
  }

  // ------------------------------------------------------------------ resolved values

  /** A plain path setting, relative to the project's directory. */
  Path path(String value) {
    Path p = Path.of(value);
    return p.isAbsolute() || base == null ? p : base.resolve(p).normalize();
  }

  /**
   * A reference that may be a path, relative to the project's directory when that file exists;
   * otherwise as written (a {@code maven:} reference, a known name).
   */
  String reference(String value) {
    if (value.contains(":") || base == null) {
      return value;
    }
    Path p = base.resolve(value).normalize();
    return Files.exists(p) ? p.toString() : value;
  }

  private static final Pattern SPEC = Pattern.compile("^([a-z0-9]+:|@)([^?]*)(\\?.*)?$");

  /**
   * A data spec with its file made absolute when it is relative to the project's directory, and the
   * labels file of a {@link DataSet} added as the spec's {@code labels} option.
   */
  String spec(DataSet set) {
    String spec = set.spec();
    Matcher m = SPEC.matcher(spec);
    if (m.matches() && base != null) {
      String file = m.group(2);
      if (!file.isEmpty() && !file.contains(":") && !Path.of(file).isAbsolute()) {
        Path p = base.resolve(file).normalize();
        if (Files.exists(p)) {
          spec = m.group(1) + p + (m.group(3) == null ? "" : m.group(3));
        }
      }
    }
    if (set.labels() != null) {
      spec += (spec.contains("?") ? "&" : "?") + "labels=" + path(set.labels());
    }
    return spec;
  }

  /**
   * The training settings as parts of a step key: as written, and each data spec resolved, so that
   * the key covers the files they name.
   */
  List<String> qatKeyParts() {
    List<String> parts = new ArrayList<>(List.of(qat.toString()));
    if (qat.data() != null) {
      parts.add(spec(DataSet.of(qat.data())));
    }
    if (qat.validation() != null) {
      parts.add(spec(DataSet.of(qat.validation())));
    }
    return parts;
  }

  String calibrationSpec() {
    return spec(DataSet.of(data.calibration()));
  }

  /** The registry location: a directory relative to the project, or a JDBC URL. */
  String registryLocation(Path out) {
    String loc = registry.location();
    if (loc == null) {
      return out.resolve("registry").toString();
    }
    return loc.startsWith("jdbc:") ? loc : path(loc).toString();
  }

  String actor() {
    String a = registry.actor();
    if (a != null) {
      return a;
    }
    String user = System.getProperty("user.name", "quantguard");
    return user.isBlank() ? "quantguard" : user.toLowerCase(Locale.ROOT);
  }
}

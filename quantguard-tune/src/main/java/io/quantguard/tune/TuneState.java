package io.quantguard.tune;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.quantguard.evaluate.Evaluation;
import io.quantguard.evaluate.Slicer;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.QuantGuard;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.report.AtomicFile;
import io.quantguard.report.Rule;
import io.quantguard.report.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * The search's state store: what a tuning run has learned so far (the whole-model repairs, the
 * ranking, the chosen node repairs, every trial and its recipe). The file store writes it to {@code
 * tuning-state.json} (and each trial's recipe to {@code trials/NNN.recipe.yaml}) after every step,
 * so a run with the same inputs resumes from it and takes each recipe's earlier result instead of
 * evaluating it again; a state made from other inputs (model, recipe, data, task, policy, search
 * settings) or by an older QuantGuard is refused rather than mixed in. The memory store keeps the
 * same in memory, for searches that need no resuming (tests of the search itself).
 */
final class TuneState {
  static final String FILE = "tuning-state.json";
  static final String SCHEMA = "quantguard.tune-state/2";

  /** Where the file store keeps the model quantization-aware training made. */
  static final String TRAINED_MODEL = "qat/trained.onnx";

  /** Schema 1 stored repairs as text ({@code "smooth 0.8"}); its files are refused, not guessed. */
  private static final String SCHEMA_1 = "quantguard.tune-state/1";

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** The file's shape. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  record Snapshot(
      String schema,
      String key,
      @Nullable List<ChosenRepair> globalRepairs,
      @Nullable List<RankedGroup> ranking,
      @Nullable List<ChosenRepair> repairs,
      @Nullable Boolean repairsAdopted,
      @Nullable TrainingOutcome training,
      List<Trial> trials) {}

  private final @Nullable Path file;
  private final String key;
  private final Map<Integer, Recipe> recipes = new HashMap<>();
  private @Nullable List<ChosenRepair> globalRepairs;
  private @Nullable List<RankedGroup> ranking;
  private @Nullable List<ChosenRepair> repairs;
  private @Nullable Boolean repairsAdopted;
  private @Nullable TrainingOutcome training;
  private @Nullable OnnxModel trainedModel;
  private final List<Trial> trials = new ArrayList<>();

  private TuneState(@Nullable Path file, String key) {
    this.file = file;
    this.key = key;
  }

  /** A store that lives in memory only. */
  static TuneState inMemory() {
    return new TuneState(null, "memory");
  }

  /** Opens the state in {@code out}, or starts a new one. */
  static TuneState open(Path out, String key) {
    Path file = out.resolve(FILE);
    TuneState s = new TuneState(file, key);
    if (!Files.exists(file)) {
      return s;
    }
    Snapshot snap;
    try {
      String schema = JSON.readTree(file.toFile()).path("schema").asText();
      if (SCHEMA_1.equals(schema)) {
        throw new InvalidInputException(
            file.toString(),
            "was written by an older QuantGuard (schema "
                + SCHEMA_1
                + ", repairs stored as text), which this version does not resume",
            "delete it (or the directory) to start the search again, or give another output"
                + " directory");
      }
      snap = JSON.readValue(file.toFile(), Snapshot.class);
    } catch (IOException e) {
      throw new InvalidInputException(
          file.toString(),
          "is not a tuning state QuantGuard can read: " + e.getMessage(),
          "delete it to start the search again, or give another output directory");
    }
    if (!SCHEMA.equals(snap.schema()) || !key.equals(snap.key())) {
      throw new InvalidInputException(
          file.toString(),
          "holds a tuning run of other inputs (model, recipe, data, task, policy or search"
              + " settings differ)",
          "give another output directory, or delete this one to start over");
    }
    s.globalRepairs = snap.globalRepairs();
    s.ranking = snap.ranking();
    s.repairs = snap.repairs();
    s.repairsAdopted = snap.repairsAdopted();
    s.training = snap.training();
    if (snap.trials() != null) {
      s.trials.addAll(snap.trials());
    }
    return s;
  }

  /**
   * Identifies the inputs: the model's bytes, the resolved start recipe, the data and calibration
   * specs, the task, the policy's rules, the search settings and the tool version. The budget is
   * left out, so a run can be resumed with a larger one.
   */
  static String key(Tuner.Inputs in, Tuner.Options o) {
    try {
      MessageDigest md = Sha256.digest();
      try (InputStream s = new DigestInputStream(Files.newInputStream(in.model()), md)) {
        s.transferTo(java.io.OutputStream.nullOutputStream());
      }
      StringBuilder b = new StringBuilder();
      b.append(RecipeIO.toJson(in.start().resolved())).append('\n');
      b.append(in.calibration().name()).append('\n');
      for (Evaluation.Data d : in.data()) {
        b.append(d.name()).append('=').append(d.source().name()).append('\n');
      }
      for (Evaluation.Data d : in.confirmData()) {
        b.append("confirm ").append(d.name()).append('=').append(d.source().name()).append('\n');
      }
      b.append(in.taskSpec()).append('\n');
      for (Slicer s : in.sliceBy()) {
        b.append("slice_by ").append(s.spec()).append('\n');
      }
      for (Rule r : in.policy().rules()) {
        b.append(r.describe()).append('\n');
      }
      b.append(o.rankSamples())
          .append(' ')
          .append(o.repairTop())
          .append(' ')
          .append(new TreeSet<>(o.repairs()))
          .append(' ')
          .append(o.fallback())
          .append(' ')
          .append(o.batchSize())
          .append(' ')
          .append(o.bootstrap())
          .append(' ')
          .append(o.seed())
          .append(' ')
          .append(o.repairs().contains("qat") ? "qat " + o.qatSteps() + ' ' : "")
          .append(QuantGuard.VERSION);
      md.update(b.toString().getBytes(StandardCharsets.UTF_8));
      return Sha256.hex(md);
    } catch (IOException e) {
      throw new InvalidInputException(
          in.model().toString(), "cannot be read: " + e.getMessage(), "check the path", e);
    }
  }

  @Nullable List<ChosenRepair> globalRepairs() {
    return globalRepairs;
  }

  void globalRepairs(List<ChosenRepair> r) {
    globalRepairs = List.copyOf(r);
    save();
  }

  /** The ranked groups, or null before the ranking ran. */
  @Nullable List<RankedGroup> ranking() {
    return ranking;
  }

  /** The ranked groups, once the ranking ran. */
  List<RankedGroup> rankedGroups() {
    if (ranking == null) {
      throw new IllegalStateException("the groups are not ranked yet");
    }
    return ranking;
  }

  void ranking(List<RankedGroup> r) {
    ranking = List.copyOf(r);
    save();
  }

  @Nullable List<ChosenRepair> repairs() {
    return repairs;
  }

  void repairs(List<ChosenRepair> r) {
    repairs = List.copyOf(r);
    save();
  }

  void repairsAdopted(boolean adopted) {
    repairsAdopted = adopted;
    save();
  }

  @Nullable Boolean repairsAdopted() {
    return repairsAdopted;
  }

  /** What quantization-aware training did, or null before it ran. */
  @Nullable TrainingOutcome training() {
    return training;
  }

  void training(TrainingOutcome t) {
    training = t;
    save();
  }

  /**
   * Keeps the trained FP32 model (the file store writes it to {@link #TRAINED_MODEL} next to the
   * state, so a resumed run does not train again) and returns its SHA-256.
   */
  String keepTrainedModel(OnnxModel trained) {
    trainedModel = trained;
    if (file == null) {
      return Sha256.of(ModelIO.toBytes(trained));
    }
    Path f = file.resolveSibling(TRAINED_MODEL);
    ModelIO.save(trained, f);
    return Sha256.of(f);
  }

  /** The trained FP32 model the outcome names, checked against its hash. */
  OnnxModel trainedModel(TrainingOutcome t) {
    OnnxModel m = trainedModel;
    if (m != null) {
      return m;
    }
    if (file == null) {
      throw new IllegalStateException("the tuning state lost the trained model");
    }
    Path f = file.resolveSibling(t.model());
    if (!Files.exists(f) || !Sha256.of(f).equals(t.modelSha256())) {
      throw new InvalidInputException(
          f.toString(),
          Files.exists(f)
              ? "is not the model the quantization-aware training wrote (its SHA-256 differs)"
              : "is missing, and the tuning state says quantization-aware training wrote it",
          "delete the output directory to tune (and train) again");
    }
    m = ModelIO.load(f);
    trainedModel = m;
    return m;
  }

  List<Trial> trials() {
    return List.copyOf(trials);
  }

  /** The earlier trial of the recipe with this hash, or null. */
  @Nullable Trial trial(String recipeSha256) {
    return trials.stream()
        .filter(t -> t.recipeSha256().equals(recipeSha256))
        .findFirst()
        .orElse(null);
  }

  /** Records a trial and the recipe it evaluated. */
  void add(Trial t, Recipe recipe) {
    recipes.put(t.index(), recipe);
    Path dir = trialsDir();
    if (dir != null) {
      try {
        Files.createDirectories(dir);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      AtomicFile.write(recipeFile(dir, t.index()), RecipeIO.toYaml(recipe));
    }
    trials.add(t);
    save();
  }

  /** The recipe trial {@code t} evaluated. */
  Recipe recipe(Trial t) {
    Recipe r = recipes.get(t.index());
    Path dir = trialsDir();
    if (r == null && dir != null) {
      try {
        r = RecipeIO.read(recipeFile(dir, t.index()));
      } catch (InvalidInputException e) {
        throw new IllegalStateException("the tuning state lost trial " + t.index(), e);
      }
      recipes.put(t.index(), r);
    }
    if (r == null) {
      throw new IllegalStateException("the tuning state lost trial " + t.index());
    }
    return r;
  }

  /** Where the file store keeps each trial's files; null in memory. */
  @Nullable Path trialsDir() {
    return file == null ? null : file.resolveSibling("trials");
  }

  private static Path recipeFile(Path dir, int index) {
    return dir.resolve(String.format(Locale.ROOT, "%03d.recipe.yaml", index));
  }

  private void save() {
    if (file == null) {
      return;
    }
    try {
      AtomicFile.write(
          file,
          JSON.writeValueAsString(
              new Snapshot(
                  SCHEMA, key, globalRepairs, ranking, repairs, repairsAdopted, training, trials)));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}

package io.quantguard.quantize;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.InvalidInputException;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A recipe with every default filled in and its global settings parsed: what quantization reads.
 * {@link Recipe} is the serialized form, where every key may be left out; this is the form where
 * none is, so the code that quantizes never asks whether a setting is there. The parsing happens
 * once, here and in {@code RecipeResolver} for overrides, and a value a recipe misspells is an
 * error that names its key.
 */
public final class ResolvedRecipe {
  private final Recipe form;
  private final Recipe.Mode mode;
  private final ActivationSettings activations;
  private final WeightSettings weights;
  private final List<String> opTypes;
  private final List<String> exclude;
  private final List<Recipe.Override> overrides;
  private final @Nullable Double smooth;
  private final int samples;
  private final int batchSize;
  private final boolean keepsChannels;
  private final String source;
  private final SettingsParser parser;

  private ResolvedRecipe(Recipe recipe, String source) {
    this.source = source;
    this.parser = new SettingsParser(source);
    this.form = recipe.resolved();
    String m = recipe.mode();
    this.mode = m == null ? Recipe.Mode.STATIC : parser.parse(Recipe.Mode.class, m, "mode");
    this.activations =
        parser.activations(
            recipe.activations(), SettingsParser.defaultActivations(), "activations");
    this.weights = parser.weights(recipe.weights(), SettingsParser.defaultWeights(mode), "weights");
    List<String> ops = recipe.opTypes();
    this.opTypes = List.copyOf(ops != null ? ops : Recipe.defaultOpTypes(mode));
    List<String> ex = recipe.exclude();
    this.exclude = ex != null ? List.copyOf(ex) : List.of();
    List<Recipe.Override> ov = recipe.overrides();
    this.overrides = ov != null ? List.copyOf(ov) : List.of();
    this.smooth = recipe.smooth();
    parser.checkSmooth(smooth, "smooth");
    Recipe.Calibration c = recipe.calibration();
    Integer n = c != null ? c.samples() : null;
    Integer b = c != null ? c.batchSize() : null;
    this.samples = n != null ? n : Recipe.DEFAULT_SAMPLES;
    this.batchSize = b != null ? b : Recipe.DEFAULT_BATCH_SIZE;
    this.keepsChannels = c == null || c.keepsChannels();
    if (samples <= 0 || batchSize <= 0) {
      throw new InvalidInputException(
          source, "calibration samples and batch_size must be positive", "fix the numbers");
    }
  }

  /**
   * {@code recipe} resolved; a misspelled value is an {@link InvalidInputException} from {@code
   * source} that names its key.
   */
  public static ResolvedRecipe of(Recipe recipe, String source) {
    return new ResolvedRecipe(recipe, source);
  }

  /** {@code recipe} resolved, with errors from "recipe". */
  public static ResolvedRecipe of(Recipe recipe) {
    return of(recipe, "recipe");
  }

  /** The recipe with every default written in: the form that is hashed, saved and recorded. */
  public Recipe form() {
    return form;
  }

  public Recipe.Mode mode() {
    return mode;
  }

  /** The integer (or float) type of the weights the recipe's global settings give. */
  public DataType weightType() {
    return weights.scheme().type();
  }

  /** How the global activation settings choose a range from calibration statistics. */
  public Calibrator calibrator() {
    return activations.calibrator();
  }

  /** Whether the global weight settings give each output channel its own scale. */
  public boolean perChannelWeights() {
    return weights.perChannel();
  }

  /** How the global weight settings compute a range from the weights. */
  public Recipe.WeightMethod weightMethod() {
    return weights.method();
  }

  /** Whether the global weight settings correct the bias for the weights' mean output shift. */
  public boolean biasCorrection() {
    return weights.biasCorrection();
  }

  public List<String> opTypes() {
    return opTypes;
  }

  /** Node names, or {@code /regex/} patterns, kept in float. */
  public List<String> exclude() {
    return exclude;
  }

  public List<Recipe.Override> overrides() {
    return overrides;
  }

  /** The global SmoothQuant migration strength α, or null for none. */
  public @Nullable Double smooth() {
    return smooth;
  }

  /** How many calibration samples to read at most. */
  public int samples() {
    return samples;
  }

  /** How many samples one calibration run takes. */
  public int batchSize() {
    return batchSize;
  }

  /** Whether calibration keeps per-channel statistics of every eligible node's input. */
  public boolean keepsChannels() {
    return keepsChannels;
  }

  ActivationSettings activations() {
    return activations;
  }

  WeightSettings weights() {
    return weights;
  }

  SettingsParser parser() {
    return parser;
  }

  /** Where the recipe came from, as errors name it. */
  String source() {
    return source;
  }
}

package io.quantguard.quantize;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A declarative, serializable plan of what to quantize and how: global defaults for activations and
 * weights, the operator types to quantize, exclusions, and overrides by operator type, node name,
 * node-name pattern or tensor, each with a one-line rationale. The mode (static, dynamic,
 * weight-only, fp16) is global or set per override, so one model can mix them. Every quantized
 * artifact is produced from exactly one recipe; the recipe's hash is stored in the model. Fields
 * left out take the defaults of {@link #defaults()}. The YAML/JSON form uses the snake_case names
 * below (see {@link RecipeIO}).
 *
 * <p>This record is the serialized form: strings as the user wrote them, null where a key is left
 * out. Jackson binds its canonical constructor; code builds recipes with {@link #builder()}, {@link
 * #toBuilder()} and the override factories ({@link Override#node(String)}, ...), so a copy never
 * drops a field it did not name. {@code RecipeResolver} parses the strings once, into typed
 * settings, and reports unknown values by their key.
 *
 * <p>Two accuracy repairs of static (QDQ) quantization are recipe options, global or per override
 * (the override wins), so tuning can apply them node by node:
 *
 * <ul>
 *   <li>{@code smooth: α} (α ∈ [0, 1]; absent = off) — SmoothQuant migration ({@link SmoothQuant},
 *       Xiao et al. 2023) for MatMul/Gemm nodes with a constant 2-D weight: per input channel j,
 *       s_j = max|X_j|^α / max|W_j|^(1−α) (clamped to [1e-5, 1e5]; 1 where either is 0), and X·W is
 *       computed as (X·diag(1/s))·(diag(s)·W) — a Mul feeding only that node, and weight rows
 *       scaled before they are quantized. The smoothed input's range is [min_j min_j/s_j, max_j
 *       max_j/s_j] from calibration's per-channel extremes, i.e. min/max whatever the activation
 *       method says (the histogram methods never saw X/s). A global {@code smooth} applies to the
 *       eligible nodes and skips the others (activation × activation products) with a note; an
 *       override must select eligible nodes only ({@code op_type} MatMul or Gemm, or nodes that
 *       multiply by a constant weight), else the recipe is rejected. The README has the strengths
 *       measured on all-MiniLM-L6-v2.
 *   <li>{@code weights: {bias_correction: true}} — empirical bias correction ({@link
 *       BiasCorrection}, Nagel et al. 2019): b' = b − ΔW·E[x] with ΔW = dequant(quant(W)) − W and
 *       E[x] the calibration's per-input-channel mean, for static Conv, Gemm and MatMul (the bias
 *       of the Add that follows it); Conv and Gemm without a bias get one, a MatMul without a
 *       constant bias Add is skipped with a note. The corrected bias is quantized to int32 as
 *       usual. The README has what it does to the Fashion-MNIST CNN at W4A8.
 * </ul>
 *
 * Both read per-channel statistics that calibration keeps by default ({@link
 * Calibration#channels()}); quantizing from a calibration without them fails with an error that
 * says how to calibrate.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({
  "version",
  "mode",
  "activations",
  "weights",
  "op_types",
  "exclude",
  "overrides",
  "smooth",
  "calibration",
  "optimize",
  "rationale"
})
public record Recipe(
    @JsonProperty("version") @Nullable Integer version,
    @JsonProperty("mode") @Nullable String mode,
    @JsonProperty("activations") @Nullable Activations activations,
    @JsonProperty("weights") @Nullable Weights weights,
    @JsonProperty("op_types") @Nullable List<String> opTypes,
    @JsonProperty("exclude") @Nullable List<String> exclude,
    @JsonProperty("overrides") @Nullable List<Override> overrides,
    @JsonProperty("smooth") @Nullable Double smooth,
    @JsonProperty("calibration") @Nullable Calibration calibration,
    @JsonProperty("rationale") @Nullable String rationale,
    @JsonProperty("optimize") @Nullable String optimize) {

  /**
   * Operator types quantized when a recipe names none: the ones ONNX Runtime runs fastest in int8.
   */
  public static final List<String> DEFAULT_OP_TYPES =
      List.of(
          "Conv",
          "ConvTranspose",
          "Gemm",
          "MatMul",
          "Concat",
          "MaxPool",
          "AveragePool",
          "GlobalAveragePool",
          "Resize",
          "Gather");

  /** Calibration samples read at most when a recipe does not say. */
  static final int DEFAULT_SAMPLES = 1000;

  /** Calibration batch size when a recipe does not say. */
  static final int DEFAULT_BATCH_SIZE = 32;

  /** Quantization modes, spelled as recipes and {@code --mode} spell them. */
  public enum Mode {
    STATIC,
    DYNAMIC,
    WEIGHT_ONLY,
    FP16;

    /** As recipes spell it; JSON (a workflow's step records, {@code --json}) spells it so too. */
    @JsonValue
    public String spelling() {
      return Spelling.of(this);
    }

    /** The mode a recipe spells {@code spelling}, if there is one. */
    public static Optional<Mode> find(String spelling) {
      return Spelling.find(Mode.class, spelling);
    }

    /** The mode {@code spelling} names; an unknown one is an IllegalArgumentException. */
    @JsonCreator
    public static Mode parse(String spelling) {
      return Spelling.parse(Mode.class, spelling);
    }

    @java.lang.Override
    public String toString() {
      return spelling();
    }
  }

  /**
   * What an override's {@code precision} says: {@code fp32} keeps the selected nodes in float;
   * {@code int8} and {@code quantized} quantize them with their settings (the types under
   * activations and weights).
   */
  public enum Precision {
    FP32,
    INT8,
    QUANTIZED;

    public String spelling() {
      return Spelling.of(this);
    }
  }

  /** How weight ranges are computed from the weights themselves ({@link WeightRanges}). */
  public enum WeightMethod {
    MINMAX,
    MSE,
    PERCENTILE;

    public String spelling() {
      return Spelling.of(this);
    }

    /** The method a recipe spells {@code spelling}, if there is one. */
    public static Optional<WeightMethod> find(String spelling) {
      return Spelling.find(WeightMethod.class, spelling);
    }
  }

  /**
   * How activations are quantized.
   *
   * @param type uint8 (default), int8 or int16/uint16
   * @param method minmax (default), minmax-average, percentile, entropy or mse
   * @param percentile for method percentile, default 99.999
   * @param perToken dynamic mode: a scale per activation row (token) instead of per tensor
   * @param bits the width of the integer grid when narrower than the type: {@code bits: 4} on uint8
   *     is [0, 15] in a uint8 tensor, so a 4-bit activation runs on 8-bit kernels
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Activations(
      @JsonProperty("type") @Nullable String type,
      @JsonProperty("symmetric") @Nullable Boolean symmetric,
      @JsonProperty("method") @Nullable String method,
      @JsonProperty("percentile") @Nullable Double percentile,
      @JsonProperty("reduce_range") @Nullable Boolean reduceRange,
      @JsonProperty("per_token") @Nullable Boolean perToken,
      @JsonProperty("bits") @Nullable Integer bits) {

    public static Builder builder() {
      return new Builder();
    }

    public Builder toBuilder() {
      return new Builder()
          .type(type)
          .symmetric(symmetric)
          .method(method)
          .percentile(percentile)
          .reduceRange(reduceRange)
          .perToken(perToken)
          .bits(bits);
    }

    /** These settings where set, {@code base}'s elsewhere. */
    Activations over(@Nullable Activations base) {
      if (base == null) {
        return this;
      }
      return new Activations(
          type != null ? type : base.type,
          symmetric != null ? symmetric : base.symmetric,
          method != null ? method : base.method,
          percentile != null ? percentile : base.percentile,
          reduceRange != null ? reduceRange : base.reduceRange,
          perToken != null ? perToken : base.perToken,
          bits != null ? bits : base.bits);
    }

    /** Builds activation settings; what is not set stays null (the recipe's or the default). */
    public static final class Builder {
      private @Nullable String type;
      private @Nullable Boolean symmetric;
      private @Nullable String method;
      private @Nullable Double percentile;
      private @Nullable Boolean reduceRange;
      private @Nullable Boolean perToken;
      private @Nullable Integer bits;

      private Builder() {}

      public Builder type(@Nullable String type) {
        this.type = type;
        return this;
      }

      public Builder symmetric(@Nullable Boolean symmetric) {
        this.symmetric = symmetric;
        return this;
      }

      public Builder method(@Nullable String method) {
        this.method = method;
        return this;
      }

      /** The method of {@code calibrator}, with its percentile where it has one. */
      public Builder calibrator(Calibrator calibrator) {
        method = calibrator.method();
        if (calibrator instanceof Calibrator.Percentile p) {
          percentile = p.percentile();
        }
        return this;
      }

      public Builder percentile(@Nullable Double percentile) {
        this.percentile = percentile;
        return this;
      }

      public Builder reduceRange(@Nullable Boolean reduceRange) {
        this.reduceRange = reduceRange;
        return this;
      }

      /**
       * Dynamic mode: one scale per row (token) of a MatMul's activation instead of one for the
       * whole tensor; null: the default.
       */
      public Builder perToken(@Nullable Boolean perToken) {
        this.perToken = perToken;
        return this;
      }

      /** The width of the integer grid, narrower than the type; null: the type's. */
      public Builder bits(@Nullable Integer bits) {
        this.bits = bits;
        return this;
      }

      public Activations build() {
        return new Activations(type, symmetric, method, percentile, reduceRange, perToken, bits);
      }
    }
  }

  /**
   * How weights are quantized.
   *
   * @param type int8 (default), uint8, int4, uint4 or int16
   * @param perChannel one scale per output channel (default true)
   * @param method minmax (default) or mse / percentile, computed per channel on the weights
   * @param blockSize weight-only mode: values per scale along the reduction axis (32, 64, 128)
   * @param algorithm weight-only mode: {@code rtn} (round to nearest), {@code awq}
   *     (activation-aware scales), {@code gptq} (error compensation through the activation
   *     Hessian), or {@code auto}: gptq when calibration data is given, rtn otherwise
   * @param format weight-only mode: {@code nbits} (ONNX Runtime's MatMulNBits, default) or {@code
   *     qdq} (the standard blocked DequantizeLinear of opset 21)
   * @param biasCorrection static mode: correct the bias of Conv, Gemm and MatMul(+Add) for the mean
   *     output shift of weight quantization, b' = b − ΔW·E[x] (see the class comment; default off)
   * @param bits the width of the integer grid when narrower than the type: {@code bits: 3} on int4
   *     is symmetric [−3, 3] (see {@link Scheme})
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Weights(
      @JsonProperty("type") @Nullable String type,
      @JsonProperty("symmetric") @Nullable Boolean symmetric,
      @JsonProperty("per_channel") @Nullable Boolean perChannel,
      @JsonProperty("method") @Nullable String method,
      @JsonProperty("percentile") @Nullable Double percentile,
      @JsonProperty("reduce_range") @Nullable Boolean reduceRange,
      @JsonProperty("block_size") @Nullable Integer blockSize,
      @JsonProperty("algorithm") @Nullable String algorithm,
      @JsonProperty("format") @Nullable String format,
      @JsonProperty("bias_correction") @Nullable Boolean biasCorrection,
      @JsonProperty("bits") @Nullable Integer bits) {

    public static Builder builder() {
      return new Builder();
    }

    public Builder toBuilder() {
      return new Builder()
          .type(type)
          .symmetric(symmetric)
          .perChannel(perChannel)
          .method(method)
          .percentile(percentile)
          .reduceRange(reduceRange)
          .blockSize(blockSize)
          .algorithm(algorithm)
          .format(format)
          .biasCorrection(biasCorrection)
          .bits(bits);
    }

    /** These settings where set, {@code base}'s elsewhere. */
    Weights over(@Nullable Weights base) {
      if (base == null) {
        return this;
      }
      return new Weights(
          type != null ? type : base.type,
          symmetric != null ? symmetric : base.symmetric,
          perChannel != null ? perChannel : base.perChannel,
          method != null ? method : base.method,
          percentile != null ? percentile : base.percentile,
          reduceRange != null ? reduceRange : base.reduceRange,
          blockSize != null ? blockSize : base.blockSize,
          algorithm != null ? algorithm : base.algorithm,
          format != null ? format : base.format,
          biasCorrection != null ? biasCorrection : base.biasCorrection,
          bits != null ? bits : base.bits);
    }

    /** Builds weight settings; what is not set stays null (the recipe's or the default). */
    public static final class Builder {
      private @Nullable String type;
      private @Nullable Boolean symmetric;
      private @Nullable Boolean perChannel;
      private @Nullable String method;
      private @Nullable Double percentile;
      private @Nullable Boolean reduceRange;
      private @Nullable Integer blockSize;
      private @Nullable String algorithm;
      private @Nullable String format;
      private @Nullable Boolean biasCorrection;
      private @Nullable Integer bits;

      private Builder() {}

      public Builder type(@Nullable String type) {
        this.type = type;
        return this;
      }

      public Builder symmetric(@Nullable Boolean symmetric) {
        this.symmetric = symmetric;
        return this;
      }

      public Builder perChannel(@Nullable Boolean perChannel) {
        this.perChannel = perChannel;
        return this;
      }

      public Builder method(@Nullable String method) {
        this.method = method;
        return this;
      }

      public Builder method(WeightMethod method) {
        return method(method.spelling());
      }

      public Builder percentile(@Nullable Double percentile) {
        this.percentile = percentile;
        return this;
      }

      public Builder reduceRange(@Nullable Boolean reduceRange) {
        this.reduceRange = reduceRange;
        return this;
      }

      public Builder blockSize(@Nullable Integer blockSize) {
        this.blockSize = blockSize;
        return this;
      }

      public Builder algorithm(@Nullable String algorithm) {
        this.algorithm = algorithm;
        return this;
      }

      public Builder format(@Nullable String format) {
        this.format = format;
        return this;
      }

      public Builder biasCorrection(@Nullable Boolean biasCorrection) {
        this.biasCorrection = biasCorrection;
        return this;
      }

      /** The width of the integer grid, narrower than the type; null: the type's. */
      public Builder bits(@Nullable Integer bits) {
        this.bits = bits;
        return this;
      }

      public Weights build() {
        return new Weights(
            type,
            symmetric,
            perChannel,
            method,
            percentile,
            reduceRange,
            blockSize,
            algorithm,
            format,
            biasCorrection,
            bits);
      }
    }
  }

  /**
   * Settings for the nodes (or one tensor) a selector picks: exactly one of {@code op_type}, {@code
   * node}, {@code node_regex}, {@code tensor}. {@code precision: fp32} keeps the nodes unquantized;
   * {@code mode} switches them to another quantization mode; {@code smooth} (α in [0, 1]) applies
   * SmoothQuant migration to the selected MatMul/Gemm nodes (see the class comment). Built from its
   * selector: {@code Override.node("/head/Gemm").precision(FP32).because("the classifier")}.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Override(
      @JsonProperty("mode") @Nullable String mode,
      @JsonProperty("op_type") @Nullable String opType,
      @JsonProperty("node") @Nullable String node,
      @JsonProperty("node_regex") @Nullable String nodeRegex,
      @JsonProperty("tensor") @Nullable String tensor,
      @JsonProperty("precision") @Nullable String precision,
      @JsonProperty("activations") @Nullable Activations activations,
      @JsonProperty("weights") @Nullable Weights weights,
      @JsonProperty("smooth") @Nullable Double smooth,
      @JsonProperty("rationale") @Nullable String rationale) {

    /** An override of every node of this operator type. */
    public static Builder opType(String opType) {
      Builder b = new Builder();
      b.opType = opType;
      return b;
    }

    /** An override of the node with this name. */
    public static Builder node(String name) {
      Builder b = new Builder();
      b.node = name;
      return b;
    }

    /** An override of the nodes whose name contains a match of this regular expression. */
    public static Builder nodeRegex(String regex) {
      Builder b = new Builder();
      b.nodeRegex = regex;
      return b;
    }

    /** An override of one tensor's activation settings (or {@code precision: fp32}). */
    public static Builder tensor(String name) {
      Builder b = new Builder();
      b.tensor = name;
      return b;
    }

    public Builder toBuilder() {
      Builder b = new Builder();
      b.opType = opType;
      b.node = node;
      b.nodeRegex = nodeRegex;
      b.tensor = tensor;
      return b.mode(mode)
          .precision(precision)
          .activations(activations)
          .weights(weights)
          .smooth(smooth)
          .rationale(rationale);
    }

    /**
     * Builds an override for the selector it was started from; {@link #because(String)} finishes it
     * with its rationale.
     */
    public static final class Builder {
      private @Nullable String mode;
      private @Nullable String opType;
      private @Nullable String node;
      private @Nullable String nodeRegex;
      private @Nullable String tensor;
      private @Nullable String precision;
      private @Nullable Activations activations;
      private @Nullable Weights weights;
      private @Nullable Double smooth;
      private @Nullable String rationale;

      private Builder() {}

      public Builder mode(@Nullable String mode) {
        this.mode = mode;
        return this;
      }

      public Builder mode(Mode mode) {
        return mode(mode.spelling());
      }

      public Builder precision(@Nullable String precision) {
        this.precision = precision;
        return this;
      }

      public Builder precision(Precision precision) {
        return precision(precision.spelling());
      }

      public Builder activations(@Nullable Activations activations) {
        this.activations = activations;
        return this;
      }

      public Builder weights(@Nullable Weights weights) {
        this.weights = weights;
        return this;
      }

      public Builder smooth(@Nullable Double alpha) {
        this.smooth = alpha;
        return this;
      }

      public Builder rationale(@Nullable String rationale) {
        this.rationale = rationale;
        return this;
      }

      /** The override, with {@code rationale} as the one line that says why. */
      public Override because(String rationale) {
        return rationale(rationale).build();
      }

      public Override build() {
        return new Override(
            mode,
            opType,
            node,
            nodeRegex,
            tensor,
            precision,
            activations,
            weights,
            smooth,
            rationale);
      }
    }
  }

  /**
   * How much calibration data to read, and what to keep of it.
   *
   * @param channels keep per-channel statistics (min, max, sum) of the activation input of every
   *     static MatMul, Gemm and Conv with a constant weight (default true), so that one calibration
   *     serves recipes that switch {@code smooth} or {@code bias_correction} on for any node — what
   *     tuning does. Their cost is small beside the histogram every observed tensor fills anyway
   *     (the README has the measurement). {@code false} keeps them only for the nodes the
   *     calibrating recipe itself smooths or bias-corrects.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Calibration(
      @JsonProperty("samples") @Nullable Integer samples,
      @JsonProperty("batch_size") @Nullable Integer batchSize,
      @JsonProperty("channels") @Nullable Boolean channels) {

    public static Builder builder() {
      return new Builder();
    }

    boolean keepsChannels() {
      return !Boolean.FALSE.equals(channels);
    }

    /** These settings where set, {@code base}'s elsewhere. */
    Calibration over(@Nullable Calibration base) {
      if (base == null) {
        return this;
      }
      return new Calibration(
          samples != null ? samples : base.samples,
          batchSize != null ? batchSize : base.batchSize,
          channels != null ? channels : base.channels);
    }

    /** Builds calibration settings; what is not set stays null (the recipe's or the default). */
    public static final class Builder {
      private @Nullable Integer samples;
      private @Nullable Integer batchSize;
      private @Nullable Boolean channels;

      private Builder() {}

      public Builder samples(@Nullable Integer samples) {
        this.samples = samples;
        return this;
      }

      public Builder batchSize(@Nullable Integer batchSize) {
        this.batchSize = batchSize;
        return this;
      }

      public Builder channels(@Nullable Boolean channels) {
        this.channels = channels;
        return this;
      }

      public Calibration build() {
        return new Calibration(samples, batchSize, channels);
      }
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from every field of this recipe. */
  public Builder toBuilder() {
    return new Builder()
        .version(version)
        .mode(mode)
        .activations(activations)
        .weights(weights)
        .opTypes(opTypes)
        .exclude(exclude)
        .overrides(overrides)
        .smooth(smooth)
        .calibration(calibration)
        .rationale(rationale)
        .optimize(optimize);
  }

  /**
   * The built-in defaults: weights int8 symmetric per-channel, activations uint8 affine, min/max.
   */
  public static Recipe defaults() {
    return defaults(Mode.STATIC);
  }

  /**
   * Defaults for a mode: weight-only quantization defaults to affine uint4 blocks of 32 along the
   * reduction axis (a zero point per block uses all 16 levels: measurably closer to FP32 than
   * symmetric int4 on MiniLM); the other modes to int8 symmetric per-channel weights.
   */
  public static Recipe defaults(Mode mode) {
    boolean weightOnly = mode == Mode.WEIGHT_ONLY;
    return builder()
        .version(1)
        .mode(mode)
        .activations(
            Activations.builder()
                .type("uint8")
                .symmetric(false)
                .calibrator(new Calibrator.MinMax(false))
                .percentile(99.999)
                .reduceRange(false)
                .build())
        .weights(
            Weights.builder()
                .type(weightOnly ? "uint4" : "int8")
                .symmetric(!weightOnly)
                .perChannel(true)
                .method(WeightMethod.MINMAX)
                .percentile(99.99)
                .reduceRange(false)
                .blockSize(32)
                .algorithm(WeightSettings.Algorithm.AUTO.spelling())
                .format(WeightSettings.Format.NBITS.spelling())
                .build())
        .opTypes(defaultOpTypes(mode))
        .exclude(List.of())
        .overrides(List.of())
        .calibration(
            Calibration.builder().samples(DEFAULT_SAMPLES).batchSize(DEFAULT_BATCH_SIZE).build())
        .build();
  }

  /** The operator types a recipe of {@code mode} quantizes when it names none. */
  static List<String> defaultOpTypes(Mode mode) {
    return mode == Mode.WEIGHT_ONLY ? List.of("MatMul", "Gemm", "Gather") : DEFAULT_OP_TYPES;
  }

  /**
   * This recipe with every missing field taken from {@link #defaults(Mode)} for its mode (static
   * defaults for a mode it misspells, which {@link ResolvedRecipe} then reports).
   */
  public Recipe resolved() {
    Recipe d = defaults(mode != null ? Mode.find(mode).orElse(Mode.STATIC) : Mode.STATIC);
    return toBuilder()
        .version(version != null ? version : d.version)
        .mode(mode != null ? mode : d.mode)
        .activations(activations != null ? activations.over(d.activations) : d.activations)
        .weights(weights != null ? weights.over(d.weights) : d.weights)
        .opTypes(opTypes != null ? opTypes : d.opTypes)
        .exclude(exclude != null ? exclude : d.exclude)
        .overrides(overrides != null ? overrides : d.overrides)
        .calibration(calibration != null ? calibration.over(d.calibration) : d.calibration)
        .build();
  }

  /**
   * This recipe laid over {@code base}, as command-line flags are laid over a recipe file: every
   * field this one sets wins, activation, weight and calibration settings field by field; its
   * exclusions and overrides come after the base's (so its overrides win too). Whatever this one
   * leaves out, {@code smooth} included, stays as {@code base} says.
   */
  public Recipe over(Recipe base) {
    Builder b =
        base.toBuilder()
            .version(version != null ? version : base.version)
            .mode(mode != null ? mode : base.mode)
            .activations(
                activations == null || activations.equals(Activations.builder().build())
                    ? base.activations
                    : activations.over(base.activations))
            .weights(
                weights == null || weights.equals(Weights.builder().build())
                    ? base.weights
                    : weights.over(base.weights))
            .opTypes(opTypes != null ? opTypes : base.opTypes)
            .smooth(smooth != null ? smooth : base.smooth)
            .calibration(
                calibration == null || calibration.equals(Calibration.builder().build())
                    ? base.calibration
                    : calibration.over(base.calibration))
            .rationale(rationale != null ? rationale : base.rationale)
            .optimize(optimize != null ? optimize : base.optimize);
    if (exclude != null) {
      b.addExclude(exclude);
    }
    if (overrides != null && !overrides.isEmpty()) {
      b.addOverrides(overrides);
    }
    return b.build();
  }

  /**
   * Builds a recipe; what is not set stays null and takes its default when the recipe is resolved.
   */
  public static final class Builder {
    private @Nullable Integer version;
    private @Nullable String mode;
    private @Nullable Activations activations;
    private @Nullable Weights weights;
    private @Nullable List<String> opTypes;
    private @Nullable List<String> exclude;
    private @Nullable List<Override> overrides;
    private @Nullable Double smooth;
    private @Nullable Calibration calibration;
    private @Nullable String rationale;
    private @Nullable String optimize;

    private Builder() {}

    public Builder version(@Nullable Integer version) {
      this.version = version;
      return this;
    }

    public Builder mode(@Nullable String mode) {
      this.mode = mode;
      return this;
    }

    public Builder mode(Mode mode) {
      return mode(mode.spelling());
    }

    public Builder activations(@Nullable Activations activations) {
      this.activations = activations;
      return this;
    }

    public Builder weights(@Nullable Weights weights) {
      this.weights = weights;
      return this;
    }

    public Builder opTypes(@Nullable List<String> opTypes) {
      this.opTypes = opTypes;
      return this;
    }

    public Builder exclude(@Nullable List<String> exclude) {
      this.exclude = exclude;
      return this;
    }

    public Builder overrides(@Nullable List<Override> overrides) {
      this.overrides = overrides;
      return this;
    }

    /** Global SmoothQuant migration strength α; null: none. */
    public Builder smooth(@Nullable Double alpha) {
      this.smooth = alpha;
      return this;
    }

    public Builder calibration(@Nullable Calibration calibration) {
      this.calibration = calibration;
      return this;
    }

    public Builder rationale(@Nullable String rationale) {
      this.rationale = rationale;
      return this;
    }

    /**
     * Whose graph optimizer fuses the model before it is quantized: {@code onnxruntime} (its
     * extended level: fused LayerNormalization, Gelu, MatMul with scale, ...); null: none.
     */
    public Builder optimize(@Nullable String optimize) {
      this.optimize = optimize;
      return this;
    }

    /** More node names or /regex/ patterns to keep in float, after the ones already here. */
    public Builder addExclude(Collection<String> more) {
      if (!more.isEmpty()) {
        List<String> all = new ArrayList<>(exclude != null ? exclude : List.of());
        all.addAll(more);
        exclude = all;
      }
      return this;
    }

    /** More overrides, applied after (so winning over) the ones already here. */
    public Builder addOverrides(Collection<Override> more) {
      List<Override> all = new ArrayList<>(overrides != null ? overrides : List.of());
      all.addAll(more);
      overrides = all;
      return this;
    }

    public Recipe build() {
      return new Recipe(
          version,
          mode,
          activations,
          weights,
          opTypes,
          exclude,
          overrides,
          smooth,
          calibration,
          rationale,
          optimize);
    }
  }
}

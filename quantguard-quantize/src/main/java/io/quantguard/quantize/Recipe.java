package io.quantguard.quantize;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;

/**
 * A declarative, serializable plan of what to quantize and how: global defaults for activations and
 * weights, the operator types to quantize, exclusions, and overrides by operator type, node name,
 * node-name pattern or tensor, each with a one-line rationale. The mode (static, dynamic,
 * weight-only, fp16) is global or set per override, so one model can mix them. Every quantized
 * artifact is produced from exactly one recipe; the recipe's hash is stored in the model. Fields
 * left out take the defaults of {@link #defaults()}. The YAML/JSON form uses the snake_case names
 * below (see {@link RecipeIO}).
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
  "calibration",
  "rationale"
})
public record Recipe(
    @JsonProperty("version") Integer version,
    @JsonProperty("mode") String mode,
    @JsonProperty("activations") Activations activations,
    @JsonProperty("weights") Weights weights,
    @JsonProperty("op_types") List<String> opTypes,
    @JsonProperty("exclude") List<String> exclude,
    @JsonProperty("overrides") List<Override> overrides,
    @JsonProperty("calibration") Calibration calibration,
    @JsonProperty("rationale") String rationale) {

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

  /**
   * How activations are quantized.
   *
   * @param type uint8 (default), int8 or int16/uint16
   * @param method minmax (default), minmax-average, percentile, entropy or mse
   * @param percentile for method percentile, default 99.999
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Activations(
      @JsonProperty("type") String type,
      @JsonProperty("symmetric") Boolean symmetric,
      @JsonProperty("method") String method,
      @JsonProperty("percentile") Double percentile,
      @JsonProperty("reduce_range") Boolean reduceRange) {

    Activations over(Activations base) {
      if (base == null) {
        return this;
      }
      return new Activations(
          type != null ? type : base.type,
          symmetric != null ? symmetric : base.symmetric,
          method != null ? method : base.method,
          percentile != null ? percentile : base.percentile,
          reduceRange != null ? reduceRange : base.reduceRange);
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
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Weights(
      @JsonProperty("type") String type,
      @JsonProperty("symmetric") Boolean symmetric,
      @JsonProperty("per_channel") Boolean perChannel,
      @JsonProperty("method") String method,
      @JsonProperty("percentile") Double percentile,
      @JsonProperty("reduce_range") Boolean reduceRange,
      @JsonProperty("block_size") Integer blockSize,
      @JsonProperty("algorithm") String algorithm,
      @JsonProperty("format") String format) {

    Weights over(Weights base) {
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
          format != null ? format : base.format);
    }
  }

  /**
   * Settings for the nodes (or one tensor) a selector picks: exactly one of {@code op_type}, {@code
   * node}, {@code node_regex}, {@code tensor}. {@code precision: fp32} keeps the nodes unquantized;
   * {@code mode} switches them to another quantization mode.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Override(
      @JsonProperty("mode") String mode,
      @JsonProperty("op_type") String opType,
      @JsonProperty("node") String node,
      @JsonProperty("node_regex") String nodeRegex,
      @JsonProperty("tensor") String tensor,
      @JsonProperty("precision") String precision,
      @JsonProperty("activations") Activations activations,
      @JsonProperty("weights") Weights weights,
      @JsonProperty("rationale") String rationale) {}

  /** How much calibration data to read. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Calibration(
      @JsonProperty("samples") Integer samples, @JsonProperty("batch_size") Integer batchSize) {}

  /** Quantization modes, as recipes and the command line name them. */
  public static final List<String> MODES = List.of("static", "dynamic", "weight-only", "fp16");

  /**
   * The built-in defaults: weights int8 symmetric per-channel, activations uint8 affine, min/max.
   */
  public static Recipe defaults() {
    return defaults("static");
  }

  /**
   * Defaults for a mode: weight-only quantization defaults to affine uint4 blocks of 32 along the
   * reduction axis (a zero point per block uses all 16 levels: measurably closer to FP32 than
   * symmetric int4 on MiniLM); the other modes to int8 symmetric per-channel weights.
   */
  public static Recipe defaults(String mode) {
    boolean weightOnly = "weight-only".equals(mode);
    return new Recipe(
        1,
        mode,
        new Activations("uint8", false, "minmax", 99.999, false),
        new Weights(
            weightOnly ? "uint4" : "int8",
            !weightOnly,
            true,
            "minmax",
            99.99,
            false,
            32,
            "auto",
            "nbits"),
        weightOnly ? List.of("MatMul", "Gemm", "Gather") : DEFAULT_OP_TYPES,
        List.of(),
        List.of(),
        new Calibration(1000, 32),
        null);
  }

  /** This recipe with every missing field taken from {@link #defaults(String)} for its mode. */
  public Recipe resolved() {
    Recipe d = defaults(mode != null ? mode : "static");
    return new Recipe(
        version != null ? version : d.version,
        mode != null ? mode : d.mode,
        activations != null ? activations.over(d.activations) : d.activations,
        weights != null ? weights.over(d.weights) : d.weights,
        opTypes != null ? opTypes : d.opTypes,
        exclude != null ? exclude : d.exclude,
        overrides != null ? overrides : d.overrides,
        new Calibration(
            calibration != null && calibration.samples() != null
                ? calibration.samples()
                : d.calibration.samples(),
            calibration != null && calibration.batchSize() != null
                ? calibration.batchSize()
                : d.calibration.batchSize()),
        rationale);
  }

  /** A copy with other global activation settings (command-line flags override the file). */
  public Recipe withActivations(Activations a) {
    return new Recipe(
        version,
        mode,
        a.over(activations),
        weights,
        opTypes,
        exclude,
        overrides,
        calibration,
        rationale);
  }

  public Recipe withWeights(Weights w) {
    return new Recipe(
        version,
        mode,
        activations,
        w.over(weights),
        opTypes,
        exclude,
        overrides,
        calibration,
        rationale);
  }

  public Recipe withCalibration(Calibration c) {
    Calibration base = calibration != null ? calibration : new Calibration(null, null);
    return new Recipe(
        version,
        mode,
        activations,
        weights,
        opTypes,
        exclude,
        overrides,
        new Calibration(
            c.samples() != null ? c.samples() : base.samples(),
            c.batchSize() != null ? c.batchSize() : base.batchSize()),
        rationale);
  }
}

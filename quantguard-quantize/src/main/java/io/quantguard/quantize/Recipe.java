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
 *       multiply by a constant weight), else the recipe is rejected. On all-MiniLM-L6-v2 with every
 *       MatMul in int8 (200 calibration texts, mean embedding cosine to FP32 on 300 others):
 *       0.98970 unsmoothed; {@code smooth: 0.75} on every MatMul 0.99484 (better than the shipped
 *       recipe that keeps the six FFN down-projections in float, 0.99376), at 0.5 only 0.97628; the
 *       down-projections alone 0.99094 at α 0.75 and 0.97039 at 0.5 — at 0.5 the GELU outliers
 *       still set the min/max range, which loses to the unsmoothed MSE range.
 *   <li>{@code weights: {bias_correction: true}} — empirical bias correction ({@link
 *       BiasCorrection}, Nagel et al. 2019): b' = b − ΔW·E[x] with ΔW = dequant(quant(W)) − W and
 *       E[x] the calibration's per-input-channel mean, for static Conv, Gemm and MatMul (the bias
 *       of the Add that follows it); Conv and Gemm without a bias get one, a MatMul without a
 *       constant bias Add is skipped with a note. The corrected bias is quantized to int32 as
 *       usual. On the Fashion-MNIST CNN at W4A8 it removes 30–40 % of the mean logit shift, but
 *       top-1 accuracy stays within noise: int4 symmetric min/max 0.9160 → 0.9136, int4 affine MSE
 *       0.9227 → 0.9233 (10,000 test images).
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
    @JsonProperty("smooth") Double smooth,
    @JsonProperty("calibration") Calibration calibration,
    @JsonProperty("rationale") String rationale) {

  /** A recipe without SmoothQuant migration (the form before {@code smooth} existed). */
  public Recipe(
      Integer version,
      String mode,
      Activations activations,
      Weights weights,
      List<String> opTypes,
      List<String> exclude,
      List<Override> overrides,
      Calibration calibration,
      String rationale) {
    this(
        version,
        mode,
        activations,
        weights,
        opTypes,
        exclude,
        overrides,
        null,
        calibration,
        rationale);
  }

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
   * @param biasCorrection static mode: correct the bias of Conv, Gemm and MatMul(+Add) for the mean
   *     output shift of weight quantization, b' = b − ΔW·E[x] (see the class comment; default off)
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
      @JsonProperty("format") String format,
      @JsonProperty("bias_correction") Boolean biasCorrection) {

    /** Weight settings without bias correction (the form before {@code bias_correction}). */
    public Weights(
        String type,
        Boolean symmetric,
        Boolean perChannel,
        String method,
        Double percentile,
        Boolean reduceRange,
        Integer blockSize,
        String algorithm,
        String format) {
      this(
          type,
          symmetric,
          perChannel,
          method,
          percentile,
          reduceRange,
          blockSize,
          algorithm,
          format,
          null);
    }

    /** Whether static quantization corrects this node's bias (off unless set). */
    boolean correctsBias() {
      return Boolean.TRUE.equals(biasCorrection);
    }

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
          format != null ? format : base.format,
          biasCorrection != null ? biasCorrection : base.biasCorrection);
    }
  }

  /**
   * Settings for the nodes (or one tensor) a selector picks: exactly one of {@code op_type}, {@code
   * node}, {@code node_regex}, {@code tensor}. {@code precision: fp32} keeps the nodes unquantized;
   * {@code mode} switches them to another quantization mode; {@code smooth} (α in [0, 1]) applies
   * SmoothQuant migration to the selected MatMul/Gemm nodes (see the class comment).
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
      @JsonProperty("smooth") Double smooth,
      @JsonProperty("rationale") String rationale) {

    /** An override without SmoothQuant migration (the form before {@code smooth} existed). */
    public Override(
        String mode,
        String opType,
        String node,
        String nodeRegex,
        String tensor,
        String precision,
        Activations activations,
        Weights weights,
        String rationale) {
      this(mode, opType, node, nodeRegex, tensor, precision, activations, weights, null, rationale);
    }
  }

  /**
   * How much calibration data to read, and what to keep of it.
   *
   * @param channels keep per-channel statistics (min, max, sum) of the activation input of every
   *     static MatMul, Gemm and Conv with a constant weight (default true), so that one calibration
   *     serves recipes that switch {@code smooth} or {@code bias_correction} on for any node — what
   *     tuning does. On all-MiniLM-L6-v2 (24 such tensors, 200 Europarl texts) they cost no
   *     measurable time: the median calibration pass went from 7.25 s to 7.01 s and process CPU
   *     from 13.73 s to 13.72 s over four alternating rounds (2-core machine); folding them costs
   *     about 2 ns a value, on a thread beside ONNX Runtime, against 2.7 ns for the histogram every
   *     observed tensor fills anyway. {@code false} keeps them only for the nodes the calibrating
   *     recipe itself smooths or bias-corrects.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Calibration(
      @JsonProperty("samples") Integer samples,
      @JsonProperty("batch_size") Integer batchSize,
      @JsonProperty("channels") Boolean channels) {

    public Calibration(Integer samples, Integer batchSize) {
      this(samples, batchSize, null);
    }

    boolean keepsChannels() {
      return !Boolean.FALSE.equals(channels);
    }
  }

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
        smooth,
        new Calibration(
            calibration != null && calibration.samples() != null
                ? calibration.samples()
                : d.calibration.samples(),
            calibration != null && calibration.batchSize() != null
                ? calibration.batchSize()
                : d.calibration.batchSize(),
            calibration != null ? calibration.channels() : null),
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
        smooth,
        calibration,
        rationale);
  }

  /** A copy with another exclusion list (tuning excludes all but the nodes it measures). */
  public Recipe withExclude(List<String> e) {
    return new Recipe(
        version, mode, activations, weights, opTypes, e, overrides, smooth, calibration, rationale);
  }

  /** A copy with other overrides (tuning appends its repairs and fallbacks). */
  public Recipe withOverrides(List<Override> o) {
    return new Recipe(
        version, mode, activations, weights, opTypes, exclude, o, smooth, calibration, rationale);
  }

  /** A copy with another global SmoothQuant strength (null: none). */
  public Recipe withSmooth(Double alpha) {
    return new Recipe(
        version,
        mode,
        activations,
        weights,
        opTypes,
        exclude,
        overrides,
        alpha,
        calibration,
        rationale);
  }

  /** A copy with another rationale. */
  public Recipe withRationale(String r) {
    return new Recipe(
        version, mode, activations, weights, opTypes, exclude, overrides, smooth, calibration, r);
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
        smooth,
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
        smooth,
        new Calibration(
            c.samples() != null ? c.samples() : base.samples(),
            c.batchSize() != null ? c.batchSize() : base.batchSize(),
            c.channels() != null ? c.channels() : base.channels()),
        rationale);
  }
}

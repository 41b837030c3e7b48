package io.quantguard.onnx;

import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * How a quantized model was made, recorded in its {@code metadata_props} when it is quantized and
 * read back by whoever meets the model later (the registry, a reproduction, a server): the
 * QuantGuard version, the recipe and its hash, the calibration data's fingerprint and size, and
 * where it ran: the ONNX Runtime, Java, OS and CPU, and the session settings calibration used
 * (which decide what ONNX Runtime fuses, hence the activations calibration observes).
 *
 * <p>Each field has its own {@code quantguard.*} key. The first five keys are the ones the first
 * QuantGuard release wrote ({@link #VERSION} … {@link #SAMPLES}); the rest were added with this
 * record and are optional, so a model quantized before reads back with them null (as Tribuo's
 * provenance marks fields "added in 4.1").
 *
 * @param toolVersion the QuantGuard version that quantized it
 * @param recipeJson the resolved recipe as canonical JSON
 * @param recipeSha256 SHA-256 of {@code recipeJson}
 * @param mode the recipe's mode ({@code static}, {@code dynamic}, ...); null in older models
 * @param calibrationFingerprint the calibration data's fingerprint, or null without calibration
 * @param fingerprintScheme the version of the fingerprint's definition; null in older models (they
 *     used scheme 1)
 * @param calibrationSamples how many calibration samples were used, or null
 * @param session the ONNX Runtime session settings calibration ran with; null in older models
 * @param environment where it was quantized; null in older models
 * @param training for a model trained quantization-aware, the training's settings and figures
 *     (JSON: recipe hash, data, loss, epochs, steps, learning rate, seed, losses); null otherwise
 */
public record QuantizationProvenance(
    @Nullable String toolVersion,
    String recipeJson,
    @Nullable String recipeSha256,
    @Nullable String mode,
    @Nullable String calibrationFingerprint,
    @Nullable Integer fingerprintScheme,
    @Nullable Long calibrationSamples,
    @Nullable Session session,
    @Nullable RunEnvironment environment,
    @Nullable String training) {

  public static final String VERSION = "quantguard.version";
  public static final String RECIPE = "quantguard.recipe";
  public static final String RECIPE_SHA = "quantguard.recipe.sha256";
  public static final String FINGERPRINT = "quantguard.calibration.fingerprint";
  public static final String SAMPLES = "quantguard.calibration.samples";

  /** The key of the quantization-aware training record, written after the quantizer's own keys. */
  public static final String TRAINING = "quantguard.qat";

  private static final String MODE = "quantguard.mode";
  private static final String SCHEME = "quantguard.calibration.fingerprint.scheme";
  private static final String SESSION = "quantguard.calibration.session.";
  private static final String ENVIRONMENT = "quantguard.environment.";

  /**
   * ONNX Runtime session settings, as strings where the runtime module names them with its enums.
   *
   * @param optimization the graph optimization level ({@code ALL}, ...)
   * @param intraOpThreads threads inside one operator; 0 = every core
   * @param interOpThreads threads across operators
   * @param provider the execution provider ({@code CPU}, {@code CUDA})
   */
  public record Session(
      String optimization, int intraOpThreads, int interOpThreads, @Nullable String provider) {}

  /** The provenance a model records, or empty for a model QuantGuard did not quantize. */
  public static Optional<QuantizationProvenance> read(OnnxModel model) {
    return read(model.metadata());
  }

  /** The provenance in {@code metadata_props} entries, or empty when they record no recipe. */
  public static Optional<QuantizationProvenance> read(Map<String, String> meta) {
    String recipe = meta.get(RECIPE);
    if (recipe == null) {
      return Optional.empty();
    }
    String optimization = meta.get(SESSION + "optimization");
    Session session =
        optimization != null
            ? new Session(
                optimization,
                intOr(meta.get(SESSION + "intra_op_threads"), 0),
                intOr(meta.get(SESSION + "inter_op_threads"), 0),
                meta.get(SESSION + "provider"))
            : null;
    String java = meta.get(ENVIRONMENT + "java");
    RunEnvironment environment =
        java != null
            ? new RunEnvironment(
                meta.getOrDefault(VERSION, "?"),
                meta.get(ENVIRONMENT + "onnx_runtime"),
                java,
                meta.getOrDefault(ENVIRONMENT + "os", "?"),
                intOr(meta.get(ENVIRONMENT + "cpus"), 0),
                meta.get(ENVIRONMENT + "cpu_model"))
            : null;
    String fingerprint = meta.get(FINGERPRINT);
    Long samples = longOrNull(meta.get(SAMPLES));
    return Optional.of(
        new QuantizationProvenance(
            meta.get(VERSION),
            recipe,
            meta.get(RECIPE_SHA),
            meta.get(MODE),
            fingerprint == null || fingerprint.isEmpty() ? null : fingerprint,
            meta.containsKey(SCHEME) ? Integer.valueOf(intOr(meta.get(SCHEME), 0)) : null,
            samples,
            session,
            environment,
            meta.get(TRAINING)));
  }

  /**
   * Records this provenance in the model's {@code metadata_props}, in a fixed key order; keys of
   * fields that are null are removed, so a model carries exactly what this record says.
   */
  public void write(OnnxModel model) {
    put(model, VERSION, toolVersion);
    put(model, RECIPE, recipeJson);
    put(model, RECIPE_SHA, recipeSha256);
    put(model, MODE, mode);
    put(model, FINGERPRINT, calibrationFingerprint);
    put(model, SCHEME, fingerprintScheme);
    put(model, SAMPLES, calibrationSamples);
    put(model, SESSION + "optimization", session != null ? session.optimization() : null);
    put(model, SESSION + "intra_op_threads", session != null ? session.intraOpThreads() : null);
    put(model, SESSION + "inter_op_threads", session != null ? session.interOpThreads() : null);
    put(model, SESSION + "provider", session != null ? session.provider() : null);
    put(
        model,
        ENVIRONMENT + "onnx_runtime",
        environment != null ? environment.onnxRuntime() : null);
    put(model, ENVIRONMENT + "java", environment != null ? environment.java() : null);
    put(model, ENVIRONMENT + "os", environment != null ? environment.os() : null);
    put(model, ENVIRONMENT + "cpus", environment != null ? environment.cpus() : null);
    put(model, ENVIRONMENT + "cpu_model", environment != null ? environment.cpuModel() : null);
    put(model, TRAINING, training);
  }

  private static void put(OnnxModel model, String key, @Nullable Object value) {
    if (value == null) {
      model.removeMetadata(key);
    } else {
      model.putMetadata(key, value.toString());
    }
  }

  private static int intOr(@Nullable String s, int fallback) {
    Long v = longOrNull(s);
    return v != null && v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE ? v.intValue() : fallback;
  }

  private static @Nullable Long longOrNull(@Nullable String s) {
    try {
      return s != null ? Long.parseLong(s.trim()) : null;
    } catch (NumberFormatException e) {
      return null;
    }
  }
}

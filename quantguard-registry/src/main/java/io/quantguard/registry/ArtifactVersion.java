package io.quantguard.registry;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonRawValue;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import io.quantguard.onnx.QuantizationProvenance;
import io.quantguard.onnx.RunEnvironment;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * One registered version of a model: everything needed to trust, serve and rebuild it. The model
 * file is the blob {@code sha256}; a quantized model also carries how it was made (its {@link
 * QuantizationProvenance}, read from the model's {@code metadata_props} at registration: the
 * recipe, the calibration data's fingerprint, the QuantGuard version and where it was quantized),
 * and the FP32 version it came from.
 *
 * <p>Serialized with Jackson as the command line's {@code --json} prints it: the provenance's
 * fields sit beside the version's own ({@code mode}, {@code recipeSha256}, {@code recipe}, ...).
 *
 * @param parent the version this one was derived from (its FP32 model), or null for a root
 * @param provenance how QuantGuard made it, or null for a model QuantGuard did not quantize
 * @param reportSha256 the blob of its evaluation report ({@code report.json}), or null
 * @param note the registrant's why, or null
 */
@JsonPropertyOrder({
  "ref",
  "model",
  "version",
  "stage",
  "sha256",
  "sizeBytes",
  "fileName",
  "parent",
  "mode",
  "recipeSha256",
  "recipe",
  "calibrationFingerprint",
  "calibrationSamples",
  "fingerprintScheme",
  "calibrationSession",
  "toolVersion",
  "environment",
  "reportSha256",
  "registeredAt",
  "registeredBy",
  "note"
})
public record ArtifactVersion(
    String model,
    int version,
    Stage stage,
    String sha256,
    long sizeBytes,
    String fileName,
    @Nullable ArtifactRef parent,
    @JsonIgnore @Nullable QuantizationProvenance provenance,
    @Nullable String reportSha256,
    @JsonSerialize(using = ToStringSerializer.class) Instant registeredAt,
    String registeredBy,
    @Nullable String note) {

  /** {@code MODEL@VERSION}. */
  @JsonProperty("ref")
  public ArtifactRef ref() {
    return ArtifactRef.of(model, version);
  }

  /** True when QuantGuard produced it from a recipe (so it can be reproduced). */
  public boolean quantized() {
    return provenance != null;
  }

  /** The recipe's quantization mode ({@code static}, {@code dynamic}, ...), or null. */
  @JsonProperty("mode")
  public @Nullable String mode() {
    return provenance != null ? provenance.mode() : null;
  }

  /** The recipe as canonical JSON, or null. */
  @JsonProperty("recipe")
  @JsonRawValue
  public @Nullable String recipeJson() {
    return provenance != null ? provenance.recipeJson() : null;
  }

  @JsonProperty("recipeSha256")
  public @Nullable String recipeSha256() {
    return provenance != null ? provenance.recipeSha256() : null;
  }

  /** The calibration data's fingerprint, or null when none was used. */
  @JsonProperty("calibrationFingerprint")
  public @Nullable String calibrationFingerprint() {
    return provenance != null ? provenance.calibrationFingerprint() : null;
  }

  /** How many calibration samples were used, or null. */
  @JsonProperty("calibrationSamples")
  public @Nullable Long calibrationSamples() {
    return provenance != null ? provenance.calibrationSamples() : null;
  }

  /** The version of the fingerprint's definition, or null where the model does not say. */
  @JsonProperty("fingerprintScheme")
  public @Nullable Integer fingerprintScheme() {
    return provenance != null ? provenance.fingerprintScheme() : null;
  }

  /** The ONNX Runtime session settings calibration ran with, or null where unknown. */
  @JsonProperty("calibrationSession")
  public QuantizationProvenance.@Nullable Session calibrationSession() {
    return provenance != null ? provenance.session() : null;
  }

  /** The QuantGuard version that produced the model, or null. */
  @JsonProperty("toolVersion")
  public @Nullable String toolVersion() {
    return provenance != null ? provenance.toolVersion() : null;
  }

  /**
   * Where it was quantized, or null: not quantized by QuantGuard, or by a version that did not say.
   */
  @JsonProperty("environment")
  public @Nullable RunEnvironment environment() {
    return provenance != null ? provenance.environment() : null;
  }

  /**
   * For a model trained quantization-aware, the training's settings and figures as JSON (what to
   * retrain it with); null otherwise.
   */
  @JsonProperty("training")
  @JsonRawValue
  public @Nullable String training() {
    return provenance != null ? provenance.training() : null;
  }
}

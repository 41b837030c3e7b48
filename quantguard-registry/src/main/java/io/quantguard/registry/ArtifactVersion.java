package io.quantguard.registry;

import java.time.Instant;

/**
 * One registered version of a model: everything needed to trust, serve and rebuild it. The model
 * file is the blob {@code sha256}; a quantized model also carries the recipe that produced it, the
 * fingerprint of its calibration data and the QuantGuard version that wrote it (all read from the
 * model's {@code metadata_props} at registration), and the FP32 version it came from.
 *
 * @param parent the version this one was derived from (its FP32 model), or null for a root
 * @param recipeJson the recipe as canonical JSON, or null for a model QuantGuard did not quantize
 * @param mode the recipe's quantization mode ({@code static}, {@code dynamic}, ...), or null
 * @param calibrationFingerprint the calibration data's fingerprint, or null when none was used
 * @param calibrationSamples how many calibration samples were used, or null
 * @param toolVersion the QuantGuard version that produced the model, or null
 * @param environment where it was registered (ONNX Runtime, Java, OS/CPU)
 * @param reportSha256 the blob of its evaluation report ({@code report.json}), or null
 * @param note the registrant's why, or null
 */
public record ArtifactVersion(
    String model,
    int version,
    Stage stage,
    String sha256,
    long sizeBytes,
    String fileName,
    ArtifactRef parent,
    String recipeJson,
    String recipeSha256,
    String mode,
    String calibrationFingerprint,
    Long calibrationSamples,
    String toolVersion,
    Environment environment,
    String reportSha256,
    Instant registeredAt,
    String registeredBy,
    String note) {

  /** {@code MODEL@VERSION}. */
  public ArtifactRef ref() {
    return ArtifactRef.of(model, version);
  }

  /** True when QuantGuard produced it from a recipe (so it can be reproduced). */
  public boolean quantized() {
    return recipeJson != null;
  }
}

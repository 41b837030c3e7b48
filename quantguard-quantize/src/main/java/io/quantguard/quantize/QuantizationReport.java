package io.quantguard.quantize;

import java.util.List;
import java.util.Map;

/**
 * What a quantization run did and why, for the command line, the registry and reviewers: counts by
 * operator, every node left in float with its reason, adjustments made (opset upgrade, bias
 * guards), sizes, and the identity of the run (recipe hash, calibration fingerprint, tool version).
 */
public record QuantizationReport(
    String mode,
    String recipeSha256,
    String calibrationFingerprint,
    long calibrationSamples,
    double calibrationSeconds,
    Map<String, Integer> quantizedNodesByOp,
    int quantizedActivations,
    int quantizedWeights,
    long weightBytesBefore,
    long weightBytesAfter,
    List<Skipped> keptInFloat,
    List<String> notes,
    long opsetBefore,
    long opsetAfter) {

  /** A node that stays in float, and why. */
  public record Skipped(String node, String opType, String reason) {}
}

package io.quantguard.registry;

import java.util.List;

/**
 * The outcome of rebuilding a version from its recorded parent, recipe and calibration data: byte
 * identity, or each input that differs from what was recorded and where the bytes part.
 *
 * @param identical true when the rebuilt model has exactly the registered bytes
 * @param registeredSha256 the registered model's SHA-256
 * @param reproducedSha256 the rebuilt model's SHA-256
 * @param differences what differs (empty when identical); inputs first, then the bytes
 */
public record Reproduction(
    ArtifactRef version,
    boolean identical,
    String registeredSha256,
    String reproducedSha256,
    long registeredBytes,
    long reproducedBytes,
    List<Difference> differences) {

  public Reproduction {
    differences = List.copyOf(differences);
  }

  /**
   * One thing that is not as recorded.
   *
   * @param what {@code data fingerprint}, {@code fingerprint scheme} (a model calibrated before
   *     scheme 2 cannot show today's fingerprint), {@code calibration samples}, {@code tool
   *     version}, {@code onnx runtime}, {@code recipe hash} or {@code bytes}
   */
  public record Difference(String what, String recorded, String now) {}
}

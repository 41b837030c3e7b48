package io.quantguard.quantize;

import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorType;
import java.util.Map;
import java.util.Set;

/**
 * What one calibration pass learned: the model in the normalized form the passes work on (constants
 * as initializers, tensor types declared), and the statistics of every tensor a recipe could
 * quantize. Reused across recipes by {@link Quantizer#quantize(Calibration, Recipe,
 * Quantizer.Options)}, so trying a recipe costs a graph rewrite, not another pass over the data.
 */
public final class Calibration {
  private final OnnxModel normalized;
  private final long originalOpset;
  private final Set<String> declared;
  private final Map<String, TensorType> types;
  private final ActivationCalibration.Result result;

  Calibration(
      OnnxModel normalized,
      long originalOpset,
      Set<String> declared,
      Map<String, TensorType> types,
      ActivationCalibration.Result result) {
    this.normalized = normalized;
    this.originalOpset = originalOpset;
    this.declared = Set.copyOf(declared);
    this.types = Map.copyOf(types);
    this.result = result;
  }

  OnnxModel normalized() {
    return normalized;
  }

  /** The default opset of the model as given, before any upgrade. */
  long originalOpset() {
    return originalOpset;
  }

  Set<String> declared() {
    return declared;
  }

  Map<String, TensorType> types() {
    return types;
  }

  ActivationCalibration.Result result() {
    return result;
  }

  /** The calibration data's fingerprint, or "" when no data was used. */
  public String fingerprint() {
    return result == null ? "" : result.fingerprint();
  }

  public long samples() {
    return result == null ? 0 : result.samples();
  }

  /** Statistics of one observed activation, for reports and sensitivity analysis. */
  public TensorStatistics statistics(String tensor) {
    return result == null ? null : result.statistics().get(tensor);
  }

  /** The tensors whose statistics were collected. */
  public Set<String> observedTensors() {
    return result == null ? Set.of() : result.statistics().keySet();
  }
}

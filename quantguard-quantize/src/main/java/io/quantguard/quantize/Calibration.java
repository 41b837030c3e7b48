package io.quantguard.quantize;

import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorType;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What one calibration pass learned: the model in the normalized form the passes work on (constants
 * as initializers, tensor types declared), and the statistics of every tensor a recipe could
 * quantize. Reused across recipes by {@link Quantizer#quantize(Calibration, Recipe,
 * Quantizer.Options)}, so trying a recipe costs a graph rewrite, not another pass over the data.
 */
public final class Calibration {
  private final CalibrationPlan plan;
  private final ActivationCalibration.@Nullable Result result;

  Calibration(CalibrationPlan plan, ActivationCalibration.@Nullable Result result) {
    this.plan = plan;
    this.result = result;
  }

  /** The plan this calibration followed. */
  public CalibrationPlan plan() {
    return plan;
  }

  OnnxModel normalized() {
    return plan.model();
  }

  /** The default opset of the model as given, before any upgrade. */
  long originalOpset() {
    return plan.originalOpset();
  }

  Set<String> declared() {
    return plan.declared();
  }

  Map<String, TensorType> types() {
    return plan.types();
  }

  ActivationCalibration.@Nullable Result result() {
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
  public @Nullable TensorStatistics statistics(String tensor) {
    return result == null ? null : result.statistics().get(tensor);
  }

  /** The tensors whose statistics were collected. */
  public Set<String> observedTensors() {
    return result == null ? Set.of() : result.statistics().keySet();
  }
}

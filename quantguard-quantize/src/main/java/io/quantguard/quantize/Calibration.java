package io.quantguard.quantize;

import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorType;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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
  private final @Nullable CalibrationAccumulator accumulator;
  private final ActivationCalibration.@Nullable Result result;

  Calibration(CalibrationPlan plan, @Nullable CalibrationAccumulator accumulator, long nanos) {
    this.plan = plan;
    this.accumulator = accumulator;
    this.result = accumulator == null ? null : accumulator.result(nanos);
  }

  /**
   * Writes the plan and the statistics, so that {@code quantize} can run elsewhere (or later, with
   * other recipes) without the data: {@link #readFrom} gives this calibration back.
   */
  public void writeTo(OutputStream out) throws IOException {
    plan.writeTo(out);
    DataOutputStream d = new DataOutputStream(out);
    d.writeBoolean(accumulator != null);
    d.flush();
    if (accumulator != null) {
      accumulator.writeTo(out);
    }
  }

  /** Reads what {@link #writeTo} wrote. */
  public static Calibration readFrom(InputStream in) throws IOException {
    CalibrationPlan plan = CalibrationPlan.readFrom(in);
    boolean data = new DataInputStream(in).readBoolean();
    return data ? plan.finish(CalibrationAccumulator.readFrom(in)) : plan.withoutData();
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

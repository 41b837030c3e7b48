package io.quantguard.quantize;

import io.quantguard.onnx.InvalidInputException;
import java.util.Map;

/**
 * Where the scales of a {@link QdqPlan}'s activation quantizers come from: the calibration
 * statistics of a static quantization, or the ranges a quantization-aware training froze or learned
 * ({@link #given}), so that the exported model computes what the training computed.
 */
public interface ActivationRanges {
  /** The scale and zero point that the tensors of {@code group} share. */
  QuantParams params(QdqPlan.Group group);

  /** The calibration's statistics, through the calibrator each group's settings name. */
  static ActivationRanges calibrated(Calibration calibration) {
    ActivationCalibration.Result result = calibration.result();
    if (result == null) {
      throw InvalidInputException.forParameter(
          "calibration", null, "holds no statistics", "calibrate with representative data");
    }
    return new CalibratedRanges(result.statistics(), SmoothQuant.Result.NONE);
  }

  /**
   * Fixed parameters by tensor; a group takes those of its anchor, or of its first member that has
   * any, and they must be of the group's scheme.
   */
  static ActivationRanges given(Map<String, QuantParams> byTensor) {
    Map<String, QuantParams> fixed = Map.copyOf(byTensor);
    return group -> {
      for (String t : group.members()) {
        QuantParams p = fixed.get(t);
        if (p == null) {
          continue;
        }
        if (p.perChannel() || !p.scheme().equals(group.scheme())) {
          throw InvalidInputException.forParameter(
              "activation range of '" + t + "'",
              p.scheme() + (p.perChannel() ? " per channel" : ""),
              "does not match the recipe's per-tensor " + group.scheme(),
              "give ranges made for this recipe");
        }
        return p;
      }
      throw InvalidInputException.forParameter(
          "activation ranges",
          null,
          "have no range for tensor '" + group.anchor() + "'",
          "give a range for every activation tensor the recipe quantizes ("
              + group.members()
              + ")");
    };
  }
}

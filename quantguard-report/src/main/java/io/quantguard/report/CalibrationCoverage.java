package io.quantguard.report;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * How much of the evaluation data's FP32 activations fall outside the ranges a static quantizer
 * calibrated ({@code report.json} field {@code calibrationCoverage}): per slice, per quantized
 * activation tensor the share of values the quantized model clips, and the samples that clip most.
 * A value clips when it lies more than half a quantization step outside the tensor's representable
 * range [s·(q<sub>min</sub> − z), s·(q<sub>max</sub> − z)] (see {@code
 * io.quantguard.evaluate.drift.CalibrationRanges}). Data only, like the rest of the report.
 *
 * @param quantizedModel the QDQ model whose ranges were read
 * @param tensors activation tensors with a calibrated range that the FP32 model also has
 * @param unmatched tensors with a range that the FP32 model does not have (e.g. the output of a
 *     SmoothQuant scaling the quantizer inserted), not measured
 * @param slices {@code all} first, then the evaluation's slices
 */
public record CalibrationCoverage(
    String quantizedModel, int tensors, List<String> unmatched, List<Slice> slices) {

  public CalibrationCoverage {
    unmatched = List.copyOf(unmatched);
    slices = List.copyOf(slices);
  }

  /**
   * One slice.
   *
   * @param values FP32 activation values measured (padding of token inputs excluded)
   * @param clipped of those, the values outside their tensor's range
   * @param rate clipped / values
   * @param tensors every measured tensor, highest rate first
   * @param worstSamples the samples with the highest share of clipped values, highest first
   */
  public record Slice(
      String slice,
      long samples,
      long values,
      long clipped,
      double rate,
      List<TensorOverflow> tensors,
      List<ClippingSample> worstSamples) {

    public Slice {
      tensors = List.copyOf(tensors);
      worstSamples = List.copyOf(worstSamples);
    }
  }

  /**
   * One tensor's overflow.
   *
   * @param low the lower end of the representable range
   * @param high the upper end
   * @param below values under {@code low} by more than half a step
   * @param above values over {@code high} by more than half a step
   */
  public record TensorOverflow(
      String tensor, double low, double high, long values, long below, long above, double rate) {}

  /**
   * A sample whose activations clip.
   *
   * @param sample {@code DATA#INDEX} (index in its data set, from 0)
   * @param detail what the sample is, where the data says (the start of a text), else null
   * @param rate clipped / values over all the sample's measured activations
   * @param worstTensor the tensor where the sample clips the largest share of its values
   */
  public record ClippingSample(
      String sample,
      @Nullable String detail,
      long values,
      long clipped,
      double rate,
      String worstTensor,
      double worstTensorRate)
      implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
  }
}

package io.quantguard.evaluate.drift;

import io.quantguard.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One batch's clipping counts: per calibrated tensor and per sample, how many FP32 activation
 * values it had and how many fell below or above its range (see {@link CalibrationRanges.Range}).
 * Values of a tensor whose first dimension is not the batch cannot be told apart by sample and are
 * counted as unattributed. An {@link OverflowMeter} accumulates these; {@link OverflowProbe} makes
 * them from model inputs.
 *
 * @param samples the batch size
 */
public record OverflowCounts(int samples, List<TensorCounts> tensors) {

  public OverflowCounts {
    tensors = List.copyOf(tensors);
  }

  /**
   * One tensor's counts; {@code values[s]}, {@code below[s]} and {@code above[s]} are sample s's.
   */
  public record TensorCounts(
      String tensor,
      long[] values,
      long[] below,
      long[] above,
      long unattributedValues,
      long unattributedBelow,
      long unattributedAbove) {}

  /**
   * Counts the activations of a batch of {@code samples}; tensors the ranges do not name are
   * ignored, named ones that are missing count nothing.
   */
  public static OverflowCounts of(
      CalibrationRanges ranges, Map<String, Tensor> activations, int samples) {
    List<TensorCounts> out = new ArrayList<>();
    for (CalibrationRanges.Range r : ranges.ranges()) {
      Tensor t = activations.get(r.tensor());
      long[] values = new long[samples];
      long[] below = new long[samples];
      long[] above = new long[samples];
      long[] rest = new long[3];
      if (t != null) {
        float[] x = t.toFloats();
        boolean perSample = t.rank() > 0 && t.shape()[0] == samples && samples > 0;
        int row = perSample ? x.length / samples : x.length;
        for (int i = 0; i < x.length; i++) {
          int lo = r.below(x[i]) ? 1 : 0;
          int hi = r.above(x[i]) ? 1 : 0;
          if (perSample) {
            int s = i / row;
            values[s]++;
            below[s] += lo;
            above[s] += hi;
          } else {
            rest[0]++;
            rest[1] += lo;
            rest[2] += hi;
          }
        }
      }
      out.add(new TensorCounts(r.tensor(), values, below, above, rest[0], rest[1], rest[2]));
    }
    return new OverflowCounts(samples, out);
  }

  /** Puts together the counts of batch parts: part k holds the batch's rows {@code rows.get(k)}. */
  static OverflowCounts combine(int samples, List<int[]> rows, List<OverflowCounts> parts) {
    List<TensorCounts> out = new ArrayList<>();
    int tensors = parts.get(0).tensors().size();
    for (int t = 0; t < tensors; t++) {
      long[] values = new long[samples];
      long[] below = new long[samples];
      long[] above = new long[samples];
      long[] rest = new long[3];
      for (int k = 0; k < parts.size(); k++) {
        TensorCounts c = parts.get(k).tensors().get(t);
        int[] r = rows.get(k);
        for (int i = 0; i < r.length; i++) {
          values[r[i]] = c.values()[i];
          below[r[i]] = c.below()[i];
          above[r[i]] = c.above()[i];
        }
        rest[0] += c.unattributedValues();
        rest[1] += c.unattributedBelow();
        rest[2] += c.unattributedAbove();
      }
      out.add(
          new TensorCounts(
              parts.get(0).tensors().get(t).tensor(),
              values,
              below,
              above,
              rest[0],
              rest[1],
              rest[2]));
    }
    return new OverflowCounts(samples, out);
  }
}

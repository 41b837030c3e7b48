package io.quantguard.evaluate.drift;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.Graph;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The activation ranges a static quantizer calibrated, read back from the QDQ model itself (no side
 * file, so any QDQ model works, QuantGuard's or ONNX Runtime's). For every {@code QuantizeLinear(x,
 * s, z)} whose input x is an activation (not a weight initializer), ONNX defines (operator
 * QuantizeLinear, DequantizeLinear):
 *
 * <pre>
 *   q  = saturate(round(x / s) + z)      saturate to [q_min, q_max] of z's type
 *   x̂  = (q − z) · s                      DequantizeLinear
 * </pre>
 *
 * so the quantized model can only represent x̂ ∈ [s·(q<sub>min</sub> − z), s·(q<sub>max</sub> − z)]
 * = [low, high], with q<sub>min</sub>, q<sub>max</sub> = 0, 255 (uint8), −128, 127 (int8), 0,
 * 65,535 (uint16), −32,768, 32,767 (int16), 0, 15 (uint4), −8, 7 (int4); z absent means uint8 0.
 * Rounding to nearest keeps q inside while x/s ∈ [q<sub>min</sub> − z − ½, q<sub>max</sub> − z +
 * ½), i.e. x ∈ [low − s/2, high + s/2): there the error |x − x̂| is at most s/2, what rounding
 * costs anywhere. A value beyond that {@link Range#clips clips}: q saturates and the error grows
 * with the distance. (A min/max calibration therefore never clips its own calibration data, even
 * when the zero point's rounding moved an end by up to s/2.)
 *
 * <p>A tensor quantized by several QuantizeLinear nodes keeps the intersection of their ranges.
 * Per-axis parameters on an activation and float8 outputs are listed as skipped. QuantGuard's QDQ
 * pass quantizes a tensor under its FP32 name, so the FP32 model can expose the same tensors; a
 * tensor the quantizer created (a SmoothQuant scaling's output) has no FP32 twin.
 */
public record CalibrationRanges(String model, List<Range> ranges, List<String> skipped)
    implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  public CalibrationRanges {
    ranges = List.copyOf(ranges);
    skipped = List.copyOf(skipped);
  }

  /**
   * One activation's representable range.
   *
   * @param type the quantized type, e.g. {@code uint8}
   */
  public record Range(
      String tensor, double low, double high, double scale, long zeroPoint, String type)
      implements java.io.Serializable {
    private static final long serialVersionUID = 1L;

    /** Whether {@code x} lies more than half a step outside [low, high]: the quantizer clips it. */
    public boolean clips(double x) {
      return below(x) || above(x);
    }

    public boolean below(double x) {
      return x < low - scale / 2;
    }

    public boolean above(double x) {
      return x > high + scale / 2;
    }
  }

  /** Reads the ranges of every quantized activation, in graph order. */
  public static CalibrationRanges of(OnnxModel quantized) {
    Graph g = quantized.graph();
    Map<String, Range> ranges = new LinkedHashMap<>();
    List<String> skipped = new ArrayList<>();
    for (Node n : g.nodes()) {
      if (!n.opType().equals("QuantizeLinear") || g.isInitializer(n.input(0))) {
        continue;
      }
      String x = n.input(0);
      Optional<TensorProto> scale = constant(quantized, n.input(1));
      Optional<TensorProto> zero =
          n.inputs().size() > 2 && !n.input(2).isEmpty()
              ? constant(quantized, n.input(2))
              : Optional.empty();
      if (scale.isEmpty() || (n.inputs().size() > 2 && !n.input(2).isEmpty() && zero.isEmpty())) {
        skipped.add(x + " (its scale or zero point is not a constant)");
        continue;
      }
      if (TensorCodec.elementCount(scale.get()) != 1) {
        skipped.add(x + " (per-axis parameters)");
        continue;
      }
      DataType type =
          zero.map(z -> DataType.fromCode(z.getDataType()))
              .orElse(
                  DataType.fromCode((int) n.intAttribute("output_dtype", DataType.UINT8.code())));
      if (!type.isInteger()) {
        skipped.add(x + " (quantized to " + type.displayName() + ")");
        continue;
      }
      double s = TensorCodec.toFloats(scale.get(), quantized.externalData())[0];
      long z = zero.map(t -> TensorCodec.toLongs(t, quantized.externalData())[0]).orElse(0L);
      Range r =
          new Range(
              x, s * (type.minValue() - z), s * (type.maxValue() - z), s, z, type.displayName());
      ranges.merge(x, r, CalibrationRanges::intersect);
    }
    return new CalibrationRanges(quantized.source(), new ArrayList<>(ranges.values()), skipped);
  }

  /** Where two consumers quantize the same tensor, a value clips if either clips it. */
  private static Range intersect(Range a, Range b) {
    return new Range(
        a.tensor(),
        Math.max(a.low(), b.low()),
        Math.min(a.high(), b.high()),
        Math.min(a.scale(), b.scale()),
        a.zeroPoint(),
        a.type());
  }

  /** An initializer, or the value of the Constant node that produces the tensor. */
  private static Optional<TensorProto> constant(OnnxModel m, String name) {
    Optional<TensorProto> init = m.graph().initializer(name);
    if (init.isPresent()) {
      return init;
    }
    return m.graph()
        .producer(name)
        .filter(p -> p.opType().equals("Constant"))
        .flatMap(p -> p.attribute("value"))
        .filter(a -> a.hasT())
        .map(a -> a.getT());
  }

  public Optional<Range> range(String tensor) {
    return ranges.stream().filter(r -> r.tensor().equals(tensor)).findFirst();
  }
}

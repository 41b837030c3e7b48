package io.quantguard.qat;

import ai.djl.ndarray.NDArray;
import io.quantguard.onnx.DataType;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import io.quantguard.quantize.QuantParams;
import io.quantguard.quantize.Scheme;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Fake quantizers with a straight-through estimator, {@code x + (dq(q(x)) − x).stopGradient()}: the
 * forward pass sees the values ONNX Runtime will compute, the gradient passes as if the quantizer
 * were not there.
 *
 * <p>They sit exactly where the static quantizer put its QDQ pairs, read from a model it quantized
 * ({@link #placedAs}): activations keep the scale and zero point that calibration gave them
 * (frozen), weights keep their integer type, symmetry and channel axis and have their scales
 * recomputed from the current values at every step with the same maths ({@link Scheme}, min/max
 * ranges), so the weights exported after training get the scales the training saw.
 */
public final class FakeQuantization {
  /** How one weight is quantized: its scheme and channel axis (−1 per tensor). */
  public record WeightQuantizer(Scheme scheme, int axis) {}

  private final Map<String, WeightQuantizer> weights;
  private final Map<String, QuantParams> activations;

  private FakeQuantization(
      Map<String, WeightQuantizer> weights, Map<String, QuantParams> activations) {
    this.weights = Collections.unmodifiableMap(weights);
    this.activations = Collections.unmodifiableMap(activations);
  }

  /**
   * The quantizers of {@code quantized}, a QDQ model that QuantGuard's static pass made from {@code
   * fp32}: activations by the FP32 tensor each QuantizeLinear reads, weights by the FP32
   * initializer each integer weight was made from ({@code NAME_quantized}).
   */
  public static FakeQuantization placedAs(OnnxModel fp32, OnnxModel quantized) {
    Map<String, WeightQuantizer> weights = new LinkedHashMap<>();
    Map<String, QuantParams> activations = new LinkedHashMap<>();
    Map<String, TensorProto> inits = quantized.graph().initializers();
    for (Node n : quantized.graph().nodes()) {
      if (n.opType().equals("QuantizeLinear") && !fp32.graph().isInitializer(n.input(0))) {
        activationParams(quantized, n).ifPresent(p -> activations.put(n.input(0), p));
      } else if (n.opType().equals("DequantizeLinear") && n.input(0).endsWith("_quantized")) {
        String w = n.input(0).substring(0, n.input(0).length() - "_quantized".length());
        Optional<TensorProto> original = fp32.graph().initializer(w);
        TensorProto q = inits.get(n.input(0));
        // int32 biases follow the input and weight scales; they are not trained quantizers
        if (original.isPresent()
            && q != null
            && DataType.fromCode(q.getDataType()).bits() <= 16
            && original.get().getDataType() == DataType.FLOAT.code()) {
          weights.put(w, weightQuantizer(quantized, n, q));
        }
      }
    }
    return new FakeQuantization(weights, activations);
  }

  private static Optional<QuantParams> activationParams(OnnxModel m, Node q) {
    Optional<TensorProto> s = m.graph().initializer(q.input(1));
    Optional<TensorProto> z = m.graph().initializer(q.input(2));
    if (s.isEmpty() || z.isEmpty() || TensorCodec.elementCount(s.get()) != 1) {
      return Optional.empty();
    }
    DataType type = DataType.fromCode(z.get().getDataType());
    float scale = TensorCodec.toFloats(s.get(), m.externalData())[0];
    int zero = (int) TensorCodec.toLongs(z.get(), m.externalData())[0];
    Scheme scheme = Scheme.of(type, zero == 0 && type.isSigned());
    return Optional.of(new QuantParams(scheme, new float[] {scale}, new int[] {zero}, -1));
  }

  private static WeightQuantizer weightQuantizer(OnnxModel m, Node dq, TensorProto q) {
    DataType type = DataType.fromCode(q.getDataType());
    boolean symmetric = true;
    Optional<TensorProto> z = m.graph().initializer(dq.input(2));
    if (z.isPresent()) {
      for (long v : TensorCodec.toLongs(z.get(), m.externalData())) {
        symmetric &= type.isSigned() ? v == 0 : v == (type.maxValue() + 1) / 2;
      }
    }
    long count = m.graph().initializer(dq.input(1)).map(TensorCodec::elementCount).orElse(1L);
    int axis = -1;
    if (count > 1) {
      long a = dq.intAttribute("axis", 1);
      axis = (int) (a < 0 ? a + TensorCodec.dims(q).length : a);
    }
    return new WeightQuantizer(Scheme.of(type, symmetric), axis);
  }

  public Map<String, WeightQuantizer> weights() {
    return weights;
  }

  public Map<String, QuantParams> activations() {
    return activations;
  }

  boolean quantizesWeight(String name) {
    return weights.containsKey(name);
  }

  /** The weight as its quantizer sees it, scales from its current min/max per channel. */
  NDArray weight(String name, NDArray w) {
    WeightQuantizer q = weights.get(name);
    if (q == null) {
      return w;
    }
    Scheme s = q.scheme();
    NDArray lo;
    NDArray hi;
    long[] dims = w.getShape().getShape();
    if (q.axis() >= 0) {
      int axis = q.axis();
      int[] perm = new int[dims.length];
      perm[0] = axis;
      for (int i = 0, k = 1; i < dims.length; i++) {
        if (i != axis) {
          perm[k++] = i;
        }
      }
      // libtorch reduces one axis at a time: bring the channel first and flatten the rest
      NDArray rows = w.stopGradient().transpose(perm).reshape(dims[axis], -1);
      long[] bshape = new long[dims.length];
      java.util.Arrays.fill(bshape, 1);
      bshape[axis] = dims[axis];
      lo = rows.min(new int[] {1}).minimum(0).reshape(bshape);
      hi = rows.max(new int[] {1}).maximum(0).reshape(bshape);
    } else {
      lo = w.stopGradient().min().minimum(0);
      hi = w.stopGradient().max().maximum(0);
    }
    NDArray scale;
    NDArray zero;
    if (s.symmetric()) {
      NDArray m = hi.maximum(lo.neg());
      scale = m.mul(2).div(s.qmax() - s.qmin());
      zero =
          scale.zerosLike().add(s.type().isSigned() ? 0 : Math.rint((s.qmin() + s.qmax()) / 2.0));
    } else {
      scale = hi.sub(lo).div(s.qmax() - s.qmin());
      zero =
          lo.div(scale.maximum(Float.MIN_NORMAL))
              .neg()
              .add(s.qmin())
              .round()
              .clip(s.qmin(), s.qmax());
    }
    // a channel that is all zero: any scale keeps it exact; 1 as the static quantizer does
    scale = scale.add(scale.eq(0).toType(scale.getDataType(), false));
    return straightThrough(w, scale, zero, s);
  }

  /** The activation with its frozen calibration parameters, or as it is when not quantized. */
  NDArray activation(String name, NDArray x) {
    QuantParams p = activations.get(name);
    if (p == null) {
      return x;
    }
    return straightThrough(x, p.scale()[0], p.zeroPoint()[0], p.scheme());
  }

  private static NDArray straightThrough(NDArray x, NDArray scale, NDArray zero, Scheme s) {
    NDArray q = x.stopGradient().div(scale).round().add(zero).clip(s.qmin(), s.qmax());
    NDArray dq = q.sub(zero).mul(scale);
    return x.add(dq.sub(x).stopGradient());
  }

  private static NDArray straightThrough(NDArray x, float scale, int zero, Scheme s) {
    NDArray q = x.stopGradient().div(scale).round().add(zero).clip(s.qmin(), s.qmax());
    NDArray dq = q.sub(zero).mul(scale);
    return x.add(dq.sub(x).stopGradient());
  }
}

package io.quantguard.qat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv1d;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.convolutional.Conv3d;
import ai.djl.nn.pooling.Pool;
import java.util.Arrays;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The layers: convolution, matrix products, pooling, normalization and softmax, with ONNX's
 * attributes (pads as begin and end per axis, auto_pad, ceil_mode, Gemm's transposes and scales).
 */
final class NetworkOperators {
  private NetworkOperators() {}

  static void register(Map<String, Operator> ops) {
    ops.put("MatMul", c -> TensorOperators.one(c.input(0).matMul(c.input(1))));
    ops.put("Gemm", NetworkOperators::gemm);
    ops.put("Conv", NetworkOperators::conv);
    ops.put("MaxPool", c -> pool(c, true));
    ops.put("AveragePool", c -> pool(c, false));
    ops.put("GlobalAveragePool", NetworkOperators::globalAveragePool);
    ops.put("Softmax", NetworkOperators::softmax);
    ops.put("LayerNormalization", NetworkOperators::layerNorm);
    ops.put("BatchNormalization", NetworkOperators::batchNorm);
    ops.put("ReduceMean", c -> reduce(c, true));
    ops.put("ReduceSum", c -> reduce(c, false));
  }

  private static NDList gemm(OperatorCall c) {
    NDArray a = c.input(0);
    NDArray b = c.input(1);
    if (c.intAttr("transA", 0) != 0) {
      a = a.transpose();
    }
    if (c.intAttr("transB", 0) != 0) {
      b = b.transpose();
    }
    NDArray y = a.matMul(b);
    float alpha = c.floatAttr("alpha", 1f);
    if (alpha != 1f) {
      y = y.mul(alpha);
    }
    NDArray bias = c.optionalInput(2);
    if (bias != null) {
      float beta = c.floatAttr("beta", 1f);
      y = y.add(beta == 1f ? bias : bias.mul(beta));
    }
    return TensorOperators.one(y);
  }

  /**
   * Padding per spatial axis: begin and end. libtorch pads symmetrically, so where they differ the
   * input is padded explicitly first ({@code fill}: 0 for convolution, −∞ for max pooling).
   */
  private record Padding(long[] symmetric, long @Nullable [] explicit) {
    NDArray apply(NDArray x, double fill) {
      if (explicit == null) {
        return x;
      }
      return x.pad(new Shape(explicit), fill);
    }
  }

  private static Padding padding(
      OperatorCall c, long[] in, long[] kernel, long[] strides, long[] dilations) {
    int n = kernel.length;
    long[] pads = c.intsAttr("pads");
    String auto = c.stringAttr("auto_pad", "NOTSET");
    if (auto.equals("SAME_UPPER") || auto.equals("SAME_LOWER")) {
      pads = new long[2 * n];
      for (int i = 0; i < n; i++) {
        long out = (in[i] + strides[i] - 1) / strides[i];
        long total =
            Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - in[i]);
        long small = total / 2;
        pads[i] = auto.equals("SAME_UPPER") ? small : total - small;
        pads[i + n] = total - pads[i];
      }
    } else if (pads.length == 0 || auto.equals("VALID")) {
      pads = new long[2 * n];
    }
    boolean symmetric = true;
    for (int i = 0; i < n; i++) {
      // libtorch also refuses pads over half the (dilated) kernel
      symmetric &= pads[i] == pads[i + n] && 2 * pads[i] <= (kernel[i] - 1) * dilations[i] + 1;
    }
    if (symmetric) {
      return new Padding(Arrays.copyOf(pads, n), null);
    }
    // torch's pad lists the last axis first: (begin, end) per axis
    long[] explicit = new long[2 * n];
    for (int i = 0; i < n; i++) {
      explicit[2 * i] = pads[n - 1 - i];
      explicit[2 * i + 1] = pads[2 * n - 1 - i];
    }
    return new Padding(new long[n], explicit);
  }

  private static long[] orOnes(long[] v, int n) {
    if (v.length == 0) {
      long[] ones = new long[n];
      Arrays.fill(ones, 1);
      return ones;
    }
    return v;
  }

  private static NDList conv(OperatorCall c) {
    NDArray x = c.input(0);
    NDArray w = c.input(1);
    NDArray b = c.optionalInput(2);
    long[] xs = x.getShape().getShape();
    long[] kernel = Arrays.copyOfRange(w.getShape().getShape(), 2, w.getShape().dimension());
    int n = kernel.length;
    long[] strides = orOnes(c.intsAttr("strides"), n);
    long[] dilations = orOnes(c.intsAttr("dilations"), n);
    Padding p = padding(c, Arrays.copyOfRange(xs, 2, xs.length), kernel, strides, dilations);
    x = p.apply(x, 0);
    int groups = (int) c.intAttr("group", 1);
    Shape s = new Shape(strides);
    Shape pad = new Shape(p.symmetric());
    Shape d = new Shape(dilations);
    NDList y =
        switch (n) {
          case 1 -> Conv1d.conv1d(x, w, b, s, pad, d, groups);
          case 2 -> Conv2d.conv2d(x, w, b, s, pad, d, groups);
          case 3 -> Conv3d.conv3d(x, w, b, s, pad, d, groups);
          default -> throw c.unsupported(n + "-dimensional convolution");
        };
    return y;
  }

  private static NDList pool(OperatorCall c, boolean max) {
    if (c.node().outputs().size() > 1 && !c.node().output(1).isEmpty()) {
      throw c.unsupported("the Indices output of MaxPool");
    }
    NDArray x = c.input(0);
    long[] xs = x.getShape().getShape();
    long[] kernel = c.intsAttr("kernel_shape");
    int n = kernel.length;
    long[] strides = orOnes(c.intsAttr("strides"), n);
    long[] dilations = orOnes(c.intsAttr("dilations"), n);
    for (long dl : dilations) {
      if (dl != 1) {
        throw c.unsupported("dilated pooling");
      }
    }
    Padding p = padding(c, Arrays.copyOfRange(xs, 2, xs.length), kernel, strides, dilations);
    boolean ceil = c.intAttr("ceil_mode", 0) != 0;
    Shape k = new Shape(kernel);
    Shape s = new Shape(strides);
    Shape pad = new Shape(p.symmetric());
    if (max) {
      x = p.apply(x, Double.NEGATIVE_INFINITY);
      return TensorOperators.one(
          switch (n) {
            case 1 -> Pool.maxPool1d(x, k, s, pad, ceil);
            case 2 -> Pool.maxPool2d(x, k, s, pad, ceil);
            case 3 -> Pool.maxPool3d(x, k, s, pad, ceil);
            default -> throw c.unsupported(n + "-dimensional pooling");
          });
    }
    boolean includePad = c.intAttr("count_include_pad", 0) != 0;
    NDArray sum = averagePool(c, p.apply(x, 0), k, s, pad, ceil);
    if (includePad || isZero(p)) {
      return TensorOperators.one(sum);
    }
    // average over the real elements only: divide by the pooled share of an all-ones input
    NDArray ones = x.onesLike();
    NDArray share = averagePool(c, p.apply(ones, 0), k, s, pad, ceil);
    return TensorOperators.one(sum.div(share));
  }

  private static boolean isZero(Padding p) {
    return p.explicit() == null && Arrays.stream(p.symmetric()).allMatch(v -> v == 0);
  }

  /** Average pooling that counts the padding, as libtorch's {@code count_include_pad=true}. */
  private static NDArray averagePool(
      OperatorCall c, NDArray x, Shape k, Shape s, Shape pad, boolean ceil) {
    return switch (k.dimension()) {
      case 1 -> Pool.avgPool1d(x, k, s, pad, ceil, true);
      case 2 -> Pool.avgPool2d(x, k, s, pad, ceil, true);
      case 3 -> Pool.avgPool3d(x, k, s, pad, ceil, true);
      default -> throw c.unsupported(k.dimension() + "-dimensional pooling");
    };
  }

  private static NDList globalAveragePool(OperatorCall c) {
    NDArray x = c.input(0);
    int rank = x.getShape().dimension();
    int[] axes = new int[rank - 2];
    for (int i = 0; i < axes.length; i++) {
      axes[i] = i + 2;
    }
    return TensorOperators.one(mean(x, axes, true));
  }

  /** Opset 13 normalizes along one axis; earlier ones over the flattened axes from {@code axis}. */
  private static NDList softmax(OperatorCall c) {
    NDArray x = c.input(0);
    Shape shape = x.getShape();
    int rank = shape.dimension();
    if (c.opset() >= 13) {
      return TensorOperators.one(x.softmax(c.axis(c.intAttr("axis", -1), rank)));
    }
    int axis = c.axis(c.intAttr("axis", 1), rank);
    if (axis == rank - 1) {
      return TensorOperators.one(x.softmax(axis));
    }
    NDArray flat = x.reshape(shape.slice(0, axis).size(), -1);
    return TensorOperators.one(flat.softmax(1).reshape(shape));
  }

  private static NDList layerNorm(OperatorCall c) {
    NDArray x = c.input(0);
    int rank = x.getShape().dimension();
    int axis = c.axis(c.intAttr("axis", -1), rank);
    int[] axes = new int[rank - axis];
    for (int i = 0; i < axes.length; i++) {
      axes[i] = axis + i;
    }
    NDArray mean = mean(x, axes, true);
    NDArray centred = x.sub(mean);
    NDArray var = mean(centred.square(), axes, true);
    NDArray invStdDev = var.add(c.floatAttr("epsilon", 1e-5f)).sqrt().pow(-1);
    NDArray y = centred.mul(invStdDev).mul(c.input(1));
    NDArray bias = c.optionalInput(2);
    return new NDList(bias == null ? y : y.add(bias), mean, invStdDev);
  }

  /** Inference form: the running statistics normalize; scale and bias stay trainable. */
  private static NDList batchNorm(OperatorCall c) {
    if (c.node().outputs().size() > 1) {
      throw c.unsupported("the training outputs of BatchNormalization");
    }
    NDArray x = c.input(0);
    long[] bshape = new long[x.getShape().dimension()];
    Arrays.fill(bshape, 1);
    bshape[1] = -1;
    Shape s = new Shape(bshape);
    NDArray scale = c.input(1).reshape(s);
    NDArray bias = c.input(2).reshape(s);
    NDArray mean = c.input(3).reshape(s);
    NDArray var = c.input(4).reshape(s);
    NDArray inv = var.add(c.floatAttr("epsilon", 1e-5f)).sqrt();
    return TensorOperators.one(x.sub(mean).div(inv).mul(scale).add(bias));
  }

  private static NDList reduce(OperatorCall c, boolean mean) {
    NDArray x = c.input(0);
    int rank = x.getShape().dimension();
    boolean axesAsInput = c.opset() >= (mean ? 18 : 13);
    long[] axes = axesAsInput ? (c.hasInput(1) ? c.longs(1) : new long[0]) : c.intsAttr("axes");
    boolean keep = c.intAttr("keepdims", 1) != 0;
    if (axes.length == 0) {
      if (axesAsInput && c.intAttr("noop_with_empty_axes", 0) != 0) {
        return TensorOperators.one(x);
      }
      axes = new long[rank];
      for (int i = 0; i < rank; i++) {
        axes[i] = i;
      }
    }
    int[] a = c.axes(axes, rank);
    return TensorOperators.one(mean ? mean(x, a, keep) : sum(x, a, keep));
  }

  /** libtorch's engine reduces one axis per call: the last axes first, keeping them, then drop. */
  static NDArray mean(NDArray x, int[] axes, boolean keep) {
    return reduceEach(x, axes, keep, true);
  }

  static NDArray sum(NDArray x, int[] axes, boolean keep) {
    return reduceEach(x, axes, keep, false);
  }

  private static NDArray reduceEach(NDArray x, int[] axes, boolean keep, boolean mean) {
    int[] sorted = axes.clone();
    Arrays.sort(sorted);
    NDArray y = x;
    for (int i = sorted.length - 1; i >= 0; i--) {
      int[] one = {sorted[i]};
      y = mean ? y.mean(one, true) : y.sum(one, true);
    }
    return keep || sorted.length == 0 ? y : y.squeeze(sorted);
  }
}

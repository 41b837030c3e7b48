package io.quantguard.qat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import io.quantguard.onnx.ExternalData;
import io.quantguard.onnx.proto.Onnx.AttributeProto;
import java.util.Arrays;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Element-wise arithmetic, activations and the shape operators (Reshape, Transpose, Gather, Slice,
 * ...), with ONNX's semantics: numpy broadcasting, integer division that truncates, negative axes
 * and indices counted from the end.
 */
final class TensorOperators {
  private TensorOperators() {}

  static void register(Map<String, Operator> ops) {
    ops.put("Identity", c -> new NDList(c.input(0)));
    ops.put("Dropout", TensorOperators::dropout);
    ops.put("Add", c -> one(c.input(0).add(c.input(1))));
    ops.put("Sub", c -> one(c.input(0).sub(c.input(1))));
    ops.put("Mul", c -> one(c.input(0).mul(c.input(1))));
    ops.put("Div", TensorOperators::div);
    ops.put("Pow", c -> one(c.input(0).pow(c.input(1).toType(c.input(0).getDataType(), false))));
    ops.put("Neg", c -> one(c.input(0).neg()));
    ops.put("Abs", c -> one(c.input(0).abs()));
    ops.put("Sqrt", c -> one(c.input(0).sqrt()));
    ops.put("Exp", c -> one(c.input(0).exp()));
    ops.put("Log", c -> one(c.input(0).log()));
    ops.put("Reciprocal", c -> one(c.input(0).pow(-1)));
    ops.put("Erf", c -> one(c.input(0).erf()));
    ops.put("Tanh", c -> one(c.input(0).tanh()));
    ops.put("Sigmoid", c -> one(Activation.sigmoid(c.input(0))));
    ops.put("Relu", c -> one(Activation.relu(c.input(0))));
    ops.put("Gelu", TensorOperators::gelu);
    ops.put("Equal", c -> one(c.input(0).eq(c.input(1))));
    ops.put("Less", c -> one(c.input(0).lt(c.input(1))));
    ops.put("Greater", c -> one(c.input(0).gt(c.input(1))));
    ops.put("Not", c -> one(c.input(0).logicalNot()));
    ops.put("Where", c -> one(NDArrays.where(c.input(0), c.input(1), c.input(2))));
    ops.put("Cast", c -> one(c.input(0).toType(Values.djlType(c.intAttr("to", 1)), true)));
    ops.put("Shape", TensorOperators::shape);
    ops.put("Reshape", TensorOperators::reshape);
    ops.put("Flatten", TensorOperators::flatten);
    ops.put("Transpose", TensorOperators::transpose);
    ops.put("Concat", TensorOperators::concat);
    ops.put("Gather", TensorOperators::gather);
    ops.put("Slice", TensorOperators::slice);
    ops.put("Unsqueeze", TensorOperators::unsqueeze);
    ops.put("Squeeze", TensorOperators::squeeze);
  }

  static NDList one(NDArray a) {
    return new NDList(a);
  }

  /** The value of a Constant node, or of ConstantOfShape's {@code value}. */
  static NDArray constant(NDManager manager, OperatorCall c) {
    for (AttributeProto a : c.node().attributes()) {
      switch (a.getName()) {
        case "value":
          return Values.toArray(manager, a.getT(), ExternalData.NONE);
        case "value_float":
          return manager.create(a.getF());
        case "value_floats":
          float[] f = new float[a.getFloatsCount()];
          for (int i = 0; i < f.length; i++) {
            f[i] = a.getFloats(i);
          }
          return manager.create(f);
        case "value_int":
          return manager.create(a.getI());
        case "value_ints":
          return manager.create(a.getIntsList().stream().mapToLong(Long::longValue).toArray());
        default:
          break;
      }
    }
    throw c.unsupported("a Constant without a numeric value");
  }

  /** Inference dropout is the identity; the training mode (random masks) is not translated. */
  private static NDList dropout(OperatorCall c) {
    NDArray training = c.optionalInput(2);
    if (training != null && training.toType(DataType.INT32, false).getInt() != 0) {
      throw c.unsupported("Dropout in training mode");
    }
    if (c.node().outputs().size() > 1 && !c.node().output(1).isEmpty()) {
      throw c.unsupported("the mask output of Dropout");
    }
    return new NDList(c.input(0));
  }

  private static NDList div(OperatorCall c) {
    NDArray a = c.input(0);
    NDArray b = c.input(1);
    if (a.getDataType().isInteger()) {
      // ONNX integer division truncates; libtorch's div would give floats.
      DataType t = a.getDataType();
      return one(
          a.toType(DataType.FLOAT64, false)
              .div(b.toType(DataType.FLOAT64, false))
              .toType(t, false));
    }
    return one(a.div(b));
  }

  private static NDList gelu(OperatorCall c) {
    NDArray x = c.input(0);
    if ("tanh".equals(c.stringAttr("approximate", "none"))) {
      NDArray inner = x.add(x.pow(3).mul(0.044715f)).mul((float) Math.sqrt(2 / Math.PI));
      return one(x.mul(inner.tanh().add(1)).mul(0.5f));
    }
    return one(x.mul(x.div((float) Math.sqrt(2)).erf().add(1)).mul(0.5f));
  }

  private static NDList shape(OperatorCall c) {
    long[] dims = c.input(0).getShape().getShape();
    int rank = dims.length;
    long start = c.intAttr("start", 0);
    long end = c.intAttr("end", rank);
    int s = (int) Math.max(0, Math.min(rank, start < 0 ? start + rank : start));
    int e = (int) Math.max(0, Math.min(rank, end < 0 ? end + rank : end));
    long[] out = Arrays.copyOfRange(dims, s, Math.max(s, e));
    return one(c.input(0).getManager().create(out));
  }

  private static NDList reshape(OperatorCall c) {
    NDArray x = c.input(0);
    long[] target = c.hasInput(1) ? c.longs(1) : c.intsAttr("shape");
    boolean allowZero = c.intAttr("allowzero", 0) != 0;
    long[] dims = x.getShape().getShape();
    long[] shape = target.clone();
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] == 0 && !allowZero) {
        shape[i] = dims[i];
      }
    }
    return one(x.reshape(new Shape(shape)));
  }

  private static NDList flatten(OperatorCall c) {
    NDArray x = c.input(0);
    long[] d = x.getShape().getShape();
    int axis =
        (int) (c.intAttr("axis", 1) < 0 ? c.intAttr("axis", 1) + d.length : c.intAttr("axis", 1));
    long outer = 1;
    for (int i = 0; i < axis; i++) {
      outer *= d[i];
    }
    long inner = x.getShape().size() / Math.max(outer, 1);
    return one(x.reshape(outer, inner));
  }

  private static NDList transpose(OperatorCall c) {
    NDArray x = c.input(0);
    long[] perm = c.intsAttr("perm");
    if (perm.length == 0) {
      return one(x.transpose());
    }
    return one(x.transpose(c.axes(perm, x.getShape().dimension())));
  }

  private static NDList concat(OperatorCall c) {
    NDList parts = new NDList();
    for (int i = 0; i < c.inputs().size(); i++) {
      NDArray a = c.optionalInput(i);
      if (a != null) {
        parts.add(a);
      }
    }
    int rank = parts.get(0).getShape().dimension();
    return one(NDArrays.concat(parts, c.axis(c.intAttr("axis", 0), rank)));
  }

  /** ONNX Gather is indexing along one axis; libtorch's advanced indexing does exactly that. */
  private static NDList gather(OperatorCall c) {
    NDArray data = c.input(0);
    NDArray idx = c.input(1).toType(DataType.INT64, false);
    int axis = c.axis(c.intAttr("axis", 0), data.getShape().dimension());
    return one(data.get(new NDIndex(":, ".repeat(axis) + "{}", idx)));
  }

  /** The element indices a Slice keeps along each axis, clamped as ONNX specifies. */
  private static NDList slice(OperatorCall c) {
    NDArray x = c.input(0);
    long[] dims = x.getShape().getShape();
    long[] starts;
    long[] ends;
    long @Nullable [] axes;
    long @Nullable [] steps;
    if (c.opset() < 10) {
      starts = c.intsAttr("starts");
      ends = c.intsAttr("ends");
      axes = c.hasAttr("axes") ? c.intsAttr("axes") : null;
      steps = null;
    } else {
      starts = c.longs(1);
      ends = c.longs(2);
      axes = c.hasInput(3) ? c.longs(3) : null;
      steps = c.hasInput(4) ? c.longs(4) : null;
    }
    NDArray out = x;
    for (int i = 0; i < starts.length; i++) {
      int axis = c.axis(axes == null ? i : axes[i], dims.length);
      long step = steps == null ? 1 : steps[i];
      long n = dims[axis];
      long s = starts[i] < 0 ? starts[i] + n : starts[i];
      long e = ends[i] < 0 && ends[i] > Long.MIN_VALUE / 2 ? ends[i] + n : ends[i];
      long[] picked;
      if (step > 0) {
        s = Math.max(0, Math.min(n, s));
        e = Math.max(0, Math.min(n, e));
        picked = new long[(int) Math.max(0, (e - s + step - 1) / step)];
      } else {
        s = Math.max(-1, Math.min(n - 1, s));
        e = Math.max(-1, Math.min(n - 1, e));
        picked = new long[(int) Math.max(0, (s - e + (-step) - 1) / (-step))];
      }
      for (int k = 0; k < picked.length; k++) {
        picked[k] = s + k * step;
      }
      if (step == 1 && picked.length == n) {
        continue;
      }
      NDArray index = x.getManager().create(picked);
      out = out.get(new NDIndex(":, ".repeat(axis) + "{}", index));
    }
    return one(out);
  }

  private static NDList unsqueeze(OperatorCall c) {
    NDArray x = c.input(0);
    long[] axes = c.opset() < 13 ? c.intsAttr("axes") : c.longs(1);
    int rank = x.getShape().dimension() + axes.length;
    int[] sorted = c.axes(axes, rank);
    Arrays.sort(sorted);
    NDArray out = x;
    for (int a : sorted) {
      out = out.expandDims(a);
    }
    return one(out);
  }

  private static NDList squeeze(OperatorCall c) {
    NDArray x = c.input(0);
    long[] axes = c.opset() < 13 ? c.intsAttr("axes") : c.hasInput(1) ? c.longs(1) : new long[0];
    if (axes.length == 0) {
      return one(x.squeeze());
    }
    return one(x.squeeze(c.axes(axes, x.getShape().dimension())));
  }
}

package io.quantguard.qat;

import ai.djl.ndarray.NDArray;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.proto.Onnx.AttributeProto;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A node being evaluated: its attributes, its input arrays (null for an omitted optional input) and
 * the opset version its semantics follow.
 */
record OperatorCall(Node node, List<@Nullable NDArray> inputs, long opset) {

  NDArray input(int i) {
    NDArray a = i < inputs.size() ? inputs.get(i) : null;
    if (a == null) {
      throw unsupported("input " + i + " is missing");
    }
    return a;
  }

  @Nullable NDArray optionalInput(int i) {
    return i < inputs.size() ? inputs.get(i) : null;
  }

  boolean hasInput(int i) {
    return optionalInput(i) != null;
  }

  long intAttr(String name, long defaultValue) {
    return node.intAttribute(name, defaultValue);
  }

  float floatAttr(String name, float defaultValue) {
    return node.floatAttribute(name, defaultValue);
  }

  String stringAttr(String name, String defaultValue) {
    return node.stringAttribute(name, defaultValue);
  }

  long[] intsAttr(String name) {
    return node.intsAttribute(name).stream().mapToLong(Long::longValue).toArray();
  }

  boolean hasAttr(String name) {
    return node.attribute(name).isPresent();
  }

  AttributeProto attr(String name) {
    return node.attribute(name).orElseThrow(() -> unsupported("attribute " + name + " is missing"));
  }

  /** The integer values of an input (a shape, axes, indices), read back from the array. */
  long[] longs(int i) {
    NDArray a = input(i);
    return a.getDataType().isInteger()
        ? a.toType(ai.djl.ndarray.types.DataType.INT64, false).toLongArray()
        : toLongs(a);
  }

  private static long[] toLongs(NDArray a) {
    return Arrays.stream(a.toArray()).mapToLong(Number::longValue).toArray();
  }

  /** Normalizes a possibly negative axis against a rank. */
  int axis(long axis, int rank) {
    long a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) {
      throw unsupported("axis " + axis + " is outside rank " + rank);
    }
    return (int) a;
  }

  int[] axes(long[] axes, int rank) {
    int[] out = new int[axes.length];
    for (int i = 0; i < axes.length; i++) {
      out[i] = axis(axes[i], rank);
    }
    return out;
  }

  /** An error naming the node and what about it the engine cannot do. */
  InvalidInputException unsupported(String what) {
    return new InvalidInputException(
        node.name().isEmpty()
            ? "a " + node.opType() + " node"
            : "node " + node.name() + " (" + node.opType() + ")",
        what + " is not translated by the training engine",
        "quantization-aware training covers the operators listed in TrainableGraph.supportedOperators()");
  }
}

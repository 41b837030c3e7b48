package io.quantguard.serve;

import io.quantguard.onnx.DataType;
import java.util.Arrays;

/**
 * A model input or output as the protocol describes it: name, element type and shape, with -1 for
 * every dimension the model leaves free (a batch or sequence dimension).
 */
public record TensorSpec(String name, DataType type, long[] shape) {
  public TensorSpec {
    shape = shape.clone();
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** The protocol's datatype name, e.g. {@code FP32}. */
  public String datatype() {
    return OipDatatype.nameOf(type);
  }

  /** True when the first dimension is free, so requests can be stacked along it. */
  boolean batchDimFree() {
    return shape.length > 0 && shape[0] < 0;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorSpec t
        && name.equals(t.name)
        && type == t.type
        && Arrays.equals(shape, t.shape);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * name.hashCode() + type.hashCode()) + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + ": " + datatype() + Arrays.toString(shape);
  }
}

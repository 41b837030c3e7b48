package io.quantguard.spark;

import java.io.Serializable;
import java.util.Arrays;

/**
 * A model input read from a column of a Spark {@code Dataset<Row>}: an array of numbers per row
 * (float or double, in row-major order), or a binary column holding one serialized ONNX {@code
 * TensorProto} per row (any numeric type, converted to float), reshaped to the per-sample shape the
 * model expects (a float input).
 *
 * @param input the model input's name
 * @param column the column holding one sample's values per row
 * @param shape the shape of one sample (without the batch axis), e.g. {@code [1, 28, 28]}
 */
public record TensorColumn(String input, String column, long[] shape) implements Serializable {
  public TensorColumn {
    shape = shape.clone();
    for (long d : shape) {
      if (d <= 0) {
        throw new IllegalArgumentException(
            "input '"
                + input
                + "': the sample shape "
                + Arrays.toString(shape)
                + " has a "
                + d
                + " dimension; give every dimension of one sample as a positive size");
      }
    }
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** Values per sample. */
  int elements() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return Math.toIntExact(n);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorColumn t
        && t.input.equals(input)
        && t.column.equals(column)
        && Arrays.equals(t.shape, shape);
  }

  @Override
  public int hashCode() {
    return (input.hashCode() * 31 + column.hashCode()) * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return input + "=" + column + Arrays.toString(shape);
  }
}

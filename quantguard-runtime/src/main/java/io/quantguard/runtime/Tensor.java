package io.quantguard.runtime;

import io.quantguard.onnx.DataType;
import java.util.Arrays;
import java.util.List;

/**
 * A dense tensor on the Java heap: element type, shape and a primitive array in row-major order.
 * This is what data sources produce and what sessions return, so no ONNX Runtime object ever
 * escapes a session. Supported element types are those models take as inputs in practice: float,
 * int64, int32, int8, uint8 and bool.
 */
public final class Tensor {
  private final DataType type;
  private final long[] shape;
  private final Object data;

  private Tensor(DataType type, long[] shape, Object data) {
    this.type = type;
    this.shape = shape.clone();
    this.data = data;
    long n = elementCount(shape);
    if (n != length(data)) {
      throw new IllegalArgumentException(
          "shape "
              + Arrays.toString(shape)
              + " needs "
              + n
              + " elements, data has "
              + length(data));
    }
  }

  public static Tensor ofFloats(float[] data, long... shape) {
    return new Tensor(DataType.FLOAT, shape, data);
  }

  public static Tensor ofLongs(long[] data, long... shape) {
    return new Tensor(DataType.INT64, shape, data);
  }

  public static Tensor ofInts(int[] data, long... shape) {
    return new Tensor(DataType.INT32, shape, data);
  }

  /** int8, uint8 or bool elements, one per byte. */
  public static Tensor ofBytes(DataType type, byte[] data, long... shape) {
    if (type != DataType.INT8 && type != DataType.UINT8 && type != DataType.BOOL) {
      throw new IllegalArgumentException("byte storage holds int8, uint8 or bool, not " + type);
    }
    return new Tensor(type, shape, data);
  }

  public DataType type() {
    return type;
  }

  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  /** Size of the first dimension (the batch), 1 for a scalar. */
  public int batchSize() {
    return shape.length == 0 ? 1 : (int) shape[0];
  }

  public long elementCount() {
    return elementCount(shape);
  }

  public float[] floats() {
    return (float[]) requireData(DataType.FLOAT);
  }

  public long[] longs() {
    return (long[]) requireData(DataType.INT64);
  }

  public int[] ints() {
    return (int[]) requireData(DataType.INT32);
  }

  public byte[] bytes() {
    if (!(data instanceof byte[] b)) {
      throw new IllegalStateException("tensor holds " + type.displayName() + ", not bytes");
    }
    return b;
  }

  /** The elements as floats whatever the storage type (a copy unless already float). */
  public float[] toFloats() {
    if (data instanceof float[] f) {
      return f;
    }
    int n = length(data);
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) get(i);
    }
    return out;
  }

  /** Element {@code i} in row-major order, widened to double. */
  public double get(int i) {
    if (data instanceof float[] f) {
      return f[i];
    } else if (data instanceof long[] l) {
      return l[i];
    } else if (data instanceof int[] n) {
      return n[i];
    }
    byte b = ((byte[]) data)[i];
    return type == DataType.INT8 ? b : b & 0xff;
  }

  /** Raw backing array (float[], long[], int[] or byte[]); callers must not modify it. */
  public Object data() {
    return data;
  }

  /** Rows {@code [from, to)} along the first axis. */
  public Tensor slice(int from, int to) {
    int rows = batchSize();
    if (from < 0 || to > rows || from > to) {
      throw new IndexOutOfBoundsException("rows " + from + ".." + to + " of " + rows);
    }
    int row = rows == 0 ? 0 : (int) (elementCount() / rows);
    long[] s = shape.clone();
    s[0] = to - from;
    Object part = copyRange(data, from * row, to * row);
    return new Tensor(type, s, part);
  }

  /** Concatenates tensors along the first axis; all must agree on type and the other dims. */
  public static Tensor concat(List<Tensor> parts) {
    if (parts.size() == 1) {
      return parts.get(0);
    }
    Tensor first = parts.get(0);
    long rows = 0;
    int total = 0;
    for (Tensor t : parts) {
      if (t.type != first.type
          || t.rank() != first.rank()
          || !Arrays.equals(
              Arrays.copyOfRange(t.shape, 1, t.rank()),
              Arrays.copyOfRange(first.shape, 1, first.rank()))) {
        throw new IllegalArgumentException(
            "cannot stack "
                + t.type.displayName()
                + Arrays.toString(t.shape)
                + " onto "
                + first.type.displayName()
                + Arrays.toString(first.shape));
      }
      rows += t.shape[0];
      total += length(t.data);
    }
    Object out = allocate(first.data, total);
    int at = 0;
    for (Tensor t : parts) {
      int n = length(t.data);
      System.arraycopy(t.data, 0, out, at, n);
      at += n;
    }
    long[] s = first.shape.clone();
    s[0] = rows;
    return new Tensor(first.type, s, out);
  }

  /** Index of the first NaN or infinite element of a float tensor, or -1. */
  public int firstNonFinite() {
    if (data instanceof float[] f) {
      for (int i = 0; i < f.length; i++) {
        if (!Float.isFinite(f[i])) {
          return i;
        }
      }
    }
    return -1;
  }

  @Override
  public String toString() {
    return type.displayName() + Arrays.toString(shape);
  }

  static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  private Object requireData(DataType expected) {
    if (type != expected) {
      throw new IllegalStateException(
          "tensor holds " + type.displayName() + ", not " + expected.displayName());
    }
    return data;
  }

  private static int length(Object data) {
    if (data instanceof float[] f) {
      return f.length;
    } else if (data instanceof long[] l) {
      return l.length;
    } else if (data instanceof int[] i) {
      return i.length;
    } else if (data instanceof byte[] b) {
      return b.length;
    }
    throw new IllegalArgumentException("unsupported storage " + data.getClass());
  }

  private static Object allocate(Object like, int n) {
    if (like instanceof float[]) {
      return new float[n];
    } else if (like instanceof long[]) {
      return new long[n];
    } else if (like instanceof int[]) {
      return new int[n];
    }
    return new byte[n];
  }

  private static Object copyRange(Object data, int from, int to) {
    if (data instanceof float[] f) {
      return Arrays.copyOfRange(f, from, to);
    } else if (data instanceof long[] l) {
      return Arrays.copyOfRange(l, from, to);
    } else if (data instanceof int[] i) {
      return Arrays.copyOfRange(i, from, to);
    }
    return Arrays.copyOfRange((byte[]) data, from, to);
  }
}

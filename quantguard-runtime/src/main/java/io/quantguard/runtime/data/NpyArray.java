package io.quantguard.runtime.data;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.Tensor;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One array in NumPy's {@code .npy} format (versions 1–3): the magic {@code \x93NUMPY}, a version,
 * a header length, a Python-dict header with {@code descr}, {@code fortran_order} and {@code
 * shape}, then the C-order values. Rows (first-axis slices) are read one batch at a time from a
 * stream.
 */
final class NpyArray implements AutoCloseable {
  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([<>|=])([a-z])(\\d+)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  final String name;
  final long[] shape;
  private final char kind;
  private final int width;
  private final ByteOrder order;
  private final DataInputStream in;

  NpyArray(String name, InputStream stream) throws IOException {
    this.name = name;
    this.in = new DataInputStream(stream);
    byte[] magic = new byte[6];
    in.readFully(magic);
    if (magic[0] != (byte) 0x93
        || !new String(magic, 1, 5, StandardCharsets.US_ASCII).equals("NUMPY")) {
      throw new InvalidInputException(
          name, "is not a .npy array (bad magic)", "save it with numpy.save");
    }
    int major = in.readUnsignedByte();
    in.readUnsignedByte();
    long headerLen;
    if (major == 1) {
      headerLen = Short.toUnsignedInt(Short.reverseBytes(in.readShort()));
    } else if (major == 2 || major == 3) {
      headerLen = Integer.toUnsignedLong(Integer.reverseBytes(in.readInt()));
    } else {
      throw new InvalidInputException(
          name, ".npy version " + major + " is not supported", "save it with numpy.save");
    }
    if (headerLen > 1 << 20) {
      throw new InvalidInputException(
          name, ".npy header of " + headerLen + " bytes", "the file is corrupt");
    }
    byte[] h = new byte[(int) headerLen];
    in.readFully(h);
    String header =
        new String(h, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    Matcher d = DESCR.matcher(header);
    Matcher f = FORTRAN.matcher(header);
    Matcher s = SHAPE.matcher(header);
    if (!d.find() || !f.find() || !s.find()) {
      throw new InvalidInputException(
          name, "has an unreadable .npy header: " + header.trim(), "save it with numpy.save");
    }
    if (f.group(1).equals("True")) {
      throw new InvalidInputException(
          name, "is stored in Fortran order", "save numpy.ascontiguousarray(x) instead");
    }
    order = d.group(1).equals(">") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
    kind = d.group(2).charAt(0);
    try {
      width = Integer.parseInt(d.group(3));
    } catch (NumberFormatException e) {
      throw new InvalidInputException(
          name,
          "has element type " + d.group(0) + " in its .npy header",
          "save it with numpy.save");
    }
    String dtype = "" + kind + width;
    if (!Arrays.asList("f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "b1").contains(dtype)) {
      throw new InvalidInputException(
          name,
          "has element type " + d.group(0) + ", which QuantGuard does not read",
          "convert to float32, int64, int32, int8, uint8 or bool");
    }
    String[] dims = s.group(1).split(",");
    try {
      shape =
          Arrays.stream(dims)
              .map(String::trim)
              .filter(x -> !x.isEmpty())
              .mapToLong(Long::parseLong)
              .toArray();
    } catch (NumberFormatException e) {
      throw new InvalidInputException(
          name,
          "has an unreadable shape in its .npy header: (" + s.group(1) + ")",
          "save it with numpy.save",
          e);
    }
    long row = 1;
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0 || (i > 0 && (row *= Math.max(shape[i], 1)) > Integer.MAX_VALUE)) {
        throw new InvalidInputException(
            name,
            "has shape " + Arrays.toString(shape) + " in its .npy header, which no array has",
            "save it with numpy.save; a sample must hold fewer than 2^31 elements");
      }
    }
    if (shape.length == 0) {
      throw new InvalidInputException(
          name,
          "is a scalar; samples need a first (batch) axis",
          "stack the samples into one array");
    }
  }

  long rows() {
    return shape[0];
  }

  private int rowElements() {
    long n = 1;
    for (int i = 1; i < shape.length; i++) {
      n *= shape[i];
    }
    return Math.toIntExact(n);
  }

  /** Reads the next {@code n} rows. Floats of any width become float32; i2 becomes int32. */
  Tensor read(int n) throws IOException {
    int count = Math.multiplyExact(n, rowElements());
    byte[] raw = new byte[Math.multiplyExact(count, width)];
    try {
      in.readFully(raw);
    } catch (EOFException e) {
      throw new InvalidInputException(
          name,
          "ends before its declared shape " + Arrays.toString(shape),
          "the file is truncated",
          e);
    }
    ByteBuffer b = ByteBuffer.wrap(raw).order(order);
    long[] s = shape.clone();
    s[0] = n;
    switch (kind) {
      case 'f' -> {
        float[] x = new float[count];
        for (int i = 0; i < count; i++) {
          x[i] =
              width == 4
                  ? b.getFloat(i * 4)
                  : width == 8
                      ? (float) b.getDouble(i * 8)
                      : io.quantguard.onnx.Float16.toFloat(b.getShort(i * 2));
        }
        return Tensor.ofFloats(x, s);
      }
      case 'i' -> {
        if (width == 8) {
          long[] x = new long[count];
          b.asLongBuffer().get(x);
          return Tensor.ofLongs(x, s);
        } else if (width == 1) {
          return Tensor.ofBytes(DataType.INT8, raw, s);
        }
        int[] x = new int[count];
        for (int i = 0; i < count; i++) {
          x[i] = width == 4 ? b.getInt(i * 4) : b.getShort(i * 2);
        }
        return Tensor.ofInts(x, s);
      }
      case 'u' -> {
        return Tensor.ofBytes(DataType.UINT8, raw, s);
      }
      default -> {
        return Tensor.ofBytes(DataType.BOOL, raw, s);
      }
    }
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}

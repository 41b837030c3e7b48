package io.quantguard.onnx;

import com.google.protobuf.ByteString;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Reads and writes the values of ONNX tensors. A tensor may hold its elements in {@code raw_data}
 * (little-endian, sub-byte types packed low bits first), in a typed field ({@code float_data},
 * {@code int32_data}, ...) or in an external file; readers here accept all three and writers always
 * produce {@code raw_data}, which is what ONNX Runtime maps fastest.
 */
public final class TensorCodec {
  private TensorCodec() {}

  /** Number of elements: the product of the dims (1 for a scalar). */
  public static long elementCount(TensorProto t) {
    return elementCount(t.getDimsList().stream().mapToLong(Long::longValue).toArray());
  }

  public static long elementCount(long[] dims) {
    long n = 1;
    for (long d : dims) {
      if (d < 0) {
        throw new IllegalArgumentException(
            "negative dimension " + d + " in " + Arrays.toString(dims));
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  public static long[] dims(TensorProto t) {
    return t.getDimsList().stream().mapToLong(Long::longValue).toArray();
  }

  public static TensorType typeOf(TensorProto t) {
    return TensorType.of(DataType.fromCode(t.getDataType()), dims(t));
  }

  /** Bytes a tensor occupies in storage (its raw form), without reading it. */
  public static long storageBytes(TensorProto t) {
    DataType type = DataType.fromCode(t.getDataType());
    if (type == DataType.STRING) {
      return t.getStringDataList().stream().mapToLong(ByteString::size).sum();
    }
    return type.storageBytes(elementCount(t));
  }

  /** The tensor's elements in raw form: little-endian, sub-byte types packed. */
  public static ByteBuffer rawBytes(TensorProto t, ExternalData external) {
    if (ExternalData.isExternal(t)) {
      return external.read(t);
    }
    if (t.hasRawData()) {
      return t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }
    DataType type = DataType.fromCode(t.getDataType());
    long count = elementCount(t);
    ByteBuffer out =
        ByteBuffer.allocate(Math.toIntExact(type.storageBytes(count)))
            .order(ByteOrder.LITTLE_ENDIAN);
    switch (type) {
      case FLOAT, COMPLEX64 -> t.getFloatDataList().forEach(out::putFloat);
      case DOUBLE, COMPLEX128 -> t.getDoubleDataList().forEach(out::putDouble);
      case INT64 -> t.getInt64DataList().forEach(out::putLong);
      case UINT64 -> t.getUint64DataList().forEach(out::putLong);
      case UINT32 -> t.getUint64DataList().forEach(v -> out.putInt((int) (long) v));
      case INT32 -> t.getInt32DataList().forEach(out::putInt);
      case INT16, UINT16, FLOAT16, BFLOAT16 ->
          t.getInt32DataList().forEach(v -> out.putShort((short) (int) v));
      case STRING, UNDEFINED ->
          throw new IllegalArgumentException(
              "tensor '" + t.getName() + "' of type " + type + " has no numeric storage");
      default -> t.getInt32DataList().forEach(v -> out.put((byte) (int) v));
    }
    if (out.position() != out.capacity()) {
      throw new IllegalArgumentException(
          "tensor '"
              + t.getName()
              + "' holds "
              + out.position()
              + " bytes of data but its shape "
              + Arrays.toString(dims(t))
              + " and type "
              + type.displayName()
              + " need "
              + out.capacity());
    }
    out.flip();
    return out;
  }

  /** The elements converted to float (integers exactly as long as they fit a float's mantissa). */
  public static float[] toFloats(TensorProto t, ExternalData external) {
    DataType type = DataType.fromCode(t.getDataType());
    int n = Math.toIntExact(elementCount(t));
    ByteBuffer b = rawBytes(t, external);
    checkRawSize(t, type, n, b);
    float[] out = new float[n];
    switch (type) {
      case FLOAT -> b.asFloatBuffer().get(out);
      case DOUBLE -> {
        for (int i = 0; i < n; i++) {
          out[i] = (float) b.getDouble(i * 8);
        }
      }
      case FLOAT16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = Float16.toFloat(b.getShort(i * 2));
        }
      }
      case BFLOAT16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = Float16.bfloat16ToFloat(b.getShort(i * 2));
        }
      }
      case FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ, FLOAT8E8M0 -> {
        for (int i = 0; i < n; i++) {
          out[i] = MiniFloat.decode(type, b.get(i) & 0xff);
        }
      }
      case FLOAT4E2M1 -> {
        for (int i = 0; i < n; i++) {
          out[i] = MiniFloat.decode(type, nibble(b, i));
        }
      }
      default -> {
        long[] longs = toLongs(t, b, type, n);
        for (int i = 0; i < n; i++) {
          out[i] = longs[i];
        }
      }
    }
    return out;
  }

  /** The elements of an integer or bool tensor. */
  public static long[] toLongs(TensorProto t, ExternalData external) {
    DataType type = DataType.fromCode(t.getDataType());
    int n = Math.toIntExact(elementCount(t));
    ByteBuffer b = rawBytes(t, external);
    checkRawSize(t, type, n, b);
    return toLongs(t, b, type, n);
  }

  private static long[] toLongs(TensorProto t, ByteBuffer b, DataType type, int n) {
    long[] out = new long[n];
    switch (type) {
      case INT8 -> {
        for (int i = 0; i < n; i++) {
          out[i] = b.get(i);
        }
      }
      case UINT8, BOOL -> {
        for (int i = 0; i < n; i++) {
          out[i] = b.get(i) & 0xff;
        }
      }
      case INT16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = b.getShort(i * 2);
        }
      }
      case UINT16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = b.getShort(i * 2) & 0xffff;
        }
      }
      case INT32 -> {
        for (int i = 0; i < n; i++) {
          out[i] = b.getInt(i * 4);
        }
      }
      case UINT32 -> {
        for (int i = 0; i < n; i++) {
          out[i] = b.getInt(i * 4) & 0xffffffffL;
        }
      }
      case INT64, UINT64 -> {
        for (int i = 0; i < n; i++) {
          out[i] = b.getLong(i * 8);
        }
      }
      case INT4 -> {
        for (int i = 0; i < n; i++) {
          out[i] = (nibble(b, i) << 28) >> 28;
        }
      }
      case UINT4 -> {
        for (int i = 0; i < n; i++) {
          out[i] = nibble(b, i);
        }
      }
      case INT2, UINT2 -> {
        for (int i = 0; i < n; i++) {
          int v = (b.get(i / 4) >> ((i % 4) * 2)) & 3;
          out[i] = type == DataType.INT2 ? (v << 30) >> 30 : v;
        }
      }
      default ->
          throw new IllegalArgumentException(
              "tensor '"
                  + t.getName()
                  + "' of type "
                  + type.displayName()
                  + " is not an integer tensor");
    }
    return out;
  }

  private static int nibble(ByteBuffer b, int i) {
    int v = b.get(i / 2) & 0xff;
    return (i % 2 == 0) ? v & 0x0f : v >>> 4;
  }

  private static void checkRawSize(TensorProto t, DataType type, int n, ByteBuffer b) {
    long need = type.storageBytes(n);
    if (b.remaining() != need) {
      throw new IllegalArgumentException(
          "tensor '"
              + t.getName()
              + "' holds "
              + b.remaining()
              + " bytes but its shape "
              + Arrays.toString(dims(t))
              + " and type "
              + type.displayName()
              + " need "
              + need);
    }
  }

  // ---- writers -----------------------------------------------------------------------------

  private static TensorProto.Builder header(String name, DataType type, long[] dims) {
    TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(type.code());
    for (long d : dims) {
      b.addDims(d);
    }
    return b;
  }

  public static TensorProto fromFloats(String name, long[] dims, float[] values) {
    requireCount(name, dims, values.length);
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return header(name, DataType.FLOAT, dims).setRawData(ByteString.copyFrom(b.array())).build();
  }

  /** Encodes to float16 (round to nearest even). */
  public static TensorProto fromFloatsAsFloat16(String name, long[] dims, float[] values) {
    requireCount(name, dims, values.length);
    ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putShort(Float16.fromFloat(v));
    }
    return header(name, DataType.FLOAT16, dims).setRawData(ByteString.copyFrom(b.array())).build();
  }

  public static TensorProto fromLongs(String name, long[] dims, long[] values) {
    requireCount(name, dims, values.length);
    ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    b.asLongBuffer().put(values);
    return header(name, DataType.INT64, dims).setRawData(ByteString.copyFrom(b.array())).build();
  }

  /**
   * Encodes integer values as {@code type} (int8, uint8, int16, uint16, int32, int4, uint4, int2,
   * uint2), packing sub-byte types low bits first. Values must already lie in the type's range.
   */
  public static TensorProto fromInts(String name, DataType type, long[] dims, int[] values) {
    requireCount(name, dims, values.length);
    if (!type.isInteger() || type.bits() > 32) {
      throw new IllegalArgumentException("fromInts cannot write " + type);
    }
    for (int i = 0; i < values.length; i++) {
      if (values[i] < type.minValue() || values[i] > type.maxValue()) {
        throw new IllegalArgumentException(
            "value "
                + values[i]
                + " at "
                + i
                + " of '"
                + name
                + "' is outside "
                + type.displayName());
      }
    }
    byte[] out = new byte[Math.toIntExact(type.storageBytes(values.length))];
    ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    switch (type.bits()) {
      case 8 -> {
        for (int i = 0; i < values.length; i++) {
          out[i] = (byte) values[i];
        }
      }
      case 16 -> {
        for (int v : values) {
          b.putShort((short) v);
        }
      }
      case 32 -> {
        for (int v : values) {
          b.putInt(v);
        }
      }
      case 4 -> {
        for (int i = 0; i < values.length; i++) {
          out[i / 2] |= (byte) ((values[i] & 0x0f) << ((i % 2) * 4));
        }
      }
      case 2 -> {
        for (int i = 0; i < values.length; i++) {
          out[i / 4] |= (byte) ((values[i] & 0x03) << ((i % 4) * 2));
        }
      }
      default -> throw new IllegalArgumentException("unsupported width " + type.bits());
    }
    return header(name, type, dims).setRawData(ByteString.copyFrom(out)).build();
  }

  /** A tensor of the given type whose raw bytes are already encoded. */
  public static TensorProto fromRaw(String name, DataType type, long[] dims, byte[] raw) {
    long need = type.storageBytes(elementCount(dims));
    if (raw.length != need) {
      throw new IllegalArgumentException(
          "'"
              + name
              + "' has "
              + raw.length
              + " bytes, "
              + type.displayName()
              + Arrays.toString(dims)
              + " needs "
              + need);
    }
    return header(name, type, dims).setRawData(ByteString.copyFrom(raw)).build();
  }

  public static TensorProto scalar(String name, float value) {
    return fromFloats(name, new long[0], new float[] {value});
  }

  private static void requireCount(String name, long[] dims, int count) {
    if (elementCount(dims) != count) {
      throw new IllegalArgumentException(
          "'" + name + "' has " + count + " values but shape " + Arrays.toString(dims));
    }
  }
}

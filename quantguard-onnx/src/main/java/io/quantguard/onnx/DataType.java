package io.quantguard.onnx;

import java.util.Locale;

/**
 * Every tensor element type ONNX defines ({@code TensorProto.DataType}), with what quantization
 * needs to know about it: storage width, whether it is an integer and its representable range.
 */
public enum DataType {
  UNDEFINED(0, 0, Kind.OTHER, false),
  FLOAT(1, 32, Kind.FLOAT, true),
  UINT8(2, 8, Kind.INTEGER, false),
  INT8(3, 8, Kind.INTEGER, true),
  UINT16(4, 16, Kind.INTEGER, false),
  INT16(5, 16, Kind.INTEGER, true),
  INT32(6, 32, Kind.INTEGER, true),
  INT64(7, 64, Kind.INTEGER, true),
  STRING(8, 0, Kind.OTHER, false),
  BOOL(9, 8, Kind.OTHER, false),
  FLOAT16(10, 16, Kind.FLOAT, true),
  DOUBLE(11, 64, Kind.FLOAT, true),
  UINT32(12, 32, Kind.INTEGER, false),
  UINT64(13, 64, Kind.INTEGER, false),
  COMPLEX64(14, 64, Kind.OTHER, true),
  COMPLEX128(15, 128, Kind.OTHER, true),
  BFLOAT16(16, 16, Kind.FLOAT, true),
  FLOAT8E4M3FN(17, 8, Kind.FLOAT, true),
  FLOAT8E4M3FNUZ(18, 8, Kind.FLOAT, true),
  FLOAT8E5M2(19, 8, Kind.FLOAT, true),
  FLOAT8E5M2FNUZ(20, 8, Kind.FLOAT, true),
  UINT4(21, 4, Kind.INTEGER, false),
  INT4(22, 4, Kind.INTEGER, true),
  FLOAT4E2M1(23, 4, Kind.FLOAT, true),
  FLOAT8E8M0(24, 8, Kind.FLOAT, false),
  UINT2(25, 2, Kind.INTEGER, false),
  INT2(26, 2, Kind.INTEGER, true);

  private enum Kind {
    FLOAT,
    INTEGER,
    OTHER
  }

  private static final DataType[] BY_CODE = new DataType[27];

  static {
    for (DataType t : values()) {
      BY_CODE[t.code] = t;
    }
  }

  private final int code;
  private final int bits;
  private final Kind kind;
  private final boolean signed;

  DataType(int code, int bits, Kind kind, boolean signed) {
    this.code = code;
    this.bits = bits;
    this.kind = kind;
    this.signed = signed;
  }

  /** The {@code TensorProto.DataType} code stored in model files. */
  public int code() {
    return code;
  }

  /** Storage width of one element in bits (0 for strings and UNDEFINED). */
  public int bits() {
    return bits;
  }

  public boolean isFloatingPoint() {
    return kind == Kind.FLOAT;
  }

  public boolean isInteger() {
    return kind == Kind.INTEGER;
  }

  public boolean isSigned() {
    return signed;
  }

  /** Smallest value of an integer type, e.g. -128 for INT8. */
  public long minValue() {
    requireInteger();
    return signed ? -(1L << (bits - 1)) : 0;
  }

  /** Largest value of an integer type, e.g. 127 for INT8. */
  public long maxValue() {
    requireInteger();
    if (bits == 64) {
      return signed ? Long.MAX_VALUE : -1L;
    }
    return signed ? (1L << (bits - 1)) - 1 : (1L << bits) - 1;
  }

  /** Bytes needed to store {@code count} elements, rounding packed sub-byte types up. */
  public long storageBytes(long count) {
    return (count * bits + 7) / 8;
  }

  /** Lower-case name as ONNX documents it, e.g. {@code int8}, {@code float16}. */
  public String displayName() {
    return name().toLowerCase(Locale.ROOT);
  }

  private void requireInteger() {
    if (kind != Kind.INTEGER) {
      throw new IllegalStateException(this + " is not an integer type");
    }
  }

  /** Looks a code up; unknown codes (from a newer ONNX) yield {@link #UNDEFINED}. */
  public static DataType fromCode(int code) {
    return code >= 0 && code < BY_CODE.length && BY_CODE[code] != null ? BY_CODE[code] : UNDEFINED;
  }

  /** Parses a name such as {@code int8} or {@code FLOAT16}. */
  public static DataType parse(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown ONNX element type '" + name + "'", e);
    }
  }
}

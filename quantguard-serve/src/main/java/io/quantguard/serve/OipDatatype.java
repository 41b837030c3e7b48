package io.quantguard.serve;

import io.quantguard.onnx.DataType;
import java.util.Locale;
import java.util.Optional;

/**
 * The tensor datatypes of the Open Inference Protocol ({@code BOOL}, {@code UINT8} ... {@code
 * FP32}, {@code BYTES}) and the ONNX element types they stand for. Binary tensor data holds each
 * element little-endian in its native width; a {@code BOOL} is one byte, 0 or 1.
 */
enum OipDatatype {
  BOOL(DataType.BOOL),
  UINT8(DataType.UINT8),
  UINT16(DataType.UINT16),
  UINT32(DataType.UINT32),
  UINT64(DataType.UINT64),
  INT8(DataType.INT8),
  INT16(DataType.INT16),
  INT32(DataType.INT32),
  INT64(DataType.INT64),
  FP16(DataType.FLOAT16),
  BF16(DataType.BFLOAT16),
  FP32(DataType.FLOAT),
  FP64(DataType.DOUBLE),
  BYTES(DataType.STRING);

  private final DataType onnx;

  OipDatatype(DataType onnx) {
    this.onnx = onnx;
  }

  DataType onnx() {
    return onnx;
  }

  /** Bytes per element in binary tensor data. */
  int elementBytes() {
    return onnx.bits() / 8;
  }

  /**
   * True for the types this server can feed to ONNX Runtime (those {@link
   * io.quantguard.runtime.Tensor} stores).
   */
  boolean feedable() {
    return switch (this) {
      case BOOL, UINT8, INT8, INT32, INT64, FP32 -> true;
      default -> false;
    };
  }

  /** The protocol name of an ONNX element type; empty for types the protocol cannot name. */
  static Optional<OipDatatype> of(DataType type) {
    for (OipDatatype d : values()) {
      if (d.onnx == type) {
        return Optional.of(d);
      }
    }
    return Optional.empty();
  }

  /** The protocol name of an ONNX element type, or the ONNX name in capitals when it has none. */
  static String nameOf(DataType type) {
    return of(type).map(Enum::name).orElse(type.name());
  }

  static Optional<OipDatatype> parse(String name) {
    try {
      return Optional.of(valueOf(name.trim().toUpperCase(Locale.ROOT)));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}

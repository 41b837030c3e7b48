package io.quantguard.qat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.quantguard.onnx.DataType;
import io.quantguard.onnx.ExternalData;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import io.quantguard.runtime.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Tensors between ONNX's storage and DJL arrays, with the element types both sides know. */
final class Values {
  private Values() {}

  /** The array holding an ONNX tensor's values, attached to {@code manager}. */
  static NDArray toArray(NDManager manager, TensorProto t, ExternalData external) {
    DataType type = DataType.fromCode(t.getDataType());
    ai.djl.ndarray.types.DataType djl = djlType(type, t.getName());
    ByteBuffer raw = TensorCodec.rawBytes(t, external);
    ByteBuffer direct = ByteBuffer.allocateDirect(raw.remaining()).order(ByteOrder.nativeOrder());
    direct.put(raw.duplicate().order(ByteOrder.LITTLE_ENDIAN)).flip();
    return manager.create(direct, new Shape(TensorCodec.dims(t)), djl);
  }

  /** A batch tensor of the data pipeline as an array attached to {@code manager}. */
  static NDArray toArray(NDManager manager, Tensor t) {
    Shape shape = new Shape(t.shape());
    return switch (t.type()) {
      case FLOAT -> manager.create(t.floats(), shape);
      case INT64 -> manager.create(t.longs(), shape);
      case INT32 -> manager.create(t.ints(), shape);
      default -> manager.create(t.toFloats(), shape);
    };
  }

  /** DJL's name for an ONNX element type; types the engine cannot hold safely are refused. */
  static ai.djl.ndarray.types.DataType djlType(DataType type, String tensor) {
    return switch (type) {
      case FLOAT -> ai.djl.ndarray.types.DataType.FLOAT32;
      case DOUBLE -> ai.djl.ndarray.types.DataType.FLOAT64;
      case INT8 -> ai.djl.ndarray.types.DataType.INT8;
      case UINT8 -> ai.djl.ndarray.types.DataType.UINT8;
      case INT16 -> ai.djl.ndarray.types.DataType.INT16;
      case INT32 -> ai.djl.ndarray.types.DataType.INT32;
      case INT64 -> ai.djl.ndarray.types.DataType.INT64;
      case BOOL -> ai.djl.ndarray.types.DataType.BOOLEAN;
      default ->
          throw new InvalidInputException(
              "tensor '" + tensor + "'",
              "has element type " + type.displayName() + ", which the training engine cannot hold",
              "training covers float, double, int8 to int64, uint8 and bool tensors (16-bit floats crash libtorch's CPU build when they cross the JNI boundary)");
    };
  }

  /** The ONNX element type with this code, for the {@code to} attribute of Cast. */
  static ai.djl.ndarray.types.DataType djlType(long onnxCode) {
    return djlType(DataType.fromCode((int) onnxCode), "Cast target");
  }
}

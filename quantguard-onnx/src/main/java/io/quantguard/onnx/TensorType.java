package io.quantguard.onnx;

import io.quantguard.onnx.proto.Onnx.TensorShapeProto;
import io.quantguard.onnx.proto.Onnx.TypeProto;
import io.quantguard.onnx.proto.Onnx.ValueInfoProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * Element type and (possibly partial) shape of a tensor value, as declared in a value_info or
 * learned by running the model. A {@code null} dims list means the rank itself is unknown.
 */
public record TensorType(DataType elementType, @Nullable List<Dim> dims) {

  /** One dimension: a fixed size, a symbolic name such as {@code batch}, or unknown. */
  public record Dim(long value, @Nullable String param) {
    public static Dim of(long value) {
      return new Dim(value, null);
    }

    public static Dim symbolic(String name) {
      return new Dim(-1, name);
    }

    public boolean isFixed() {
      return value >= 0;
    }

    @Override
    public String toString() {
      return isFixed() ? Long.toString(value) : (param == null || param.isEmpty() ? "?" : param);
    }
  }

  public TensorType {
    dims = dims == null ? null : List.copyOf(dims);
  }

  public static TensorType of(DataType type, long... shape) {
    List<Dim> d = new ArrayList<>();
    for (long s : shape) {
      d.add(s < 0 ? new Dim(-1, null) : Dim.of(s));
    }
    return new TensorType(type, d);
  }

  public boolean rankKnown() {
    return dims != null;
  }

  public int rank() {
    if (dims == null) {
      throw new IllegalStateException("rank unknown");
    }
    return dims.size();
  }

  /** The shape with -1 for every dimension that is not fixed. */
  public long @Nullable [] shape() {
    if (dims == null) {
      return null;
    }
    return dims.stream().mapToLong(Dim::value).toArray();
  }

  /** Reads the tensor type of a value_info; empty when it is not a tensor or has no type. */
  public static Optional<TensorType> from(ValueInfoProto vi) {
    if (!vi.hasType() || !vi.getType().hasTensorType()) {
      return Optional.empty();
    }
    TypeProto.Tensor t = vi.getType().getTensorType();
    @Nullable List<Dim> dims = null;
    if (t.hasShape()) {
      dims = new ArrayList<>();
      for (TensorShapeProto.Dimension d : t.getShape().getDimList()) {
        if (d.hasDimValue()) {
          dims.add(Dim.of(d.getDimValue()));
        } else {
          dims.add(new Dim(-1, d.hasDimParam() ? d.getDimParam() : null));
        }
      }
    }
    return Optional.of(new TensorType(DataType.fromCode(t.getElemType()), dims));
  }

  /** A value_info declaring {@code name} with this type. */
  public ValueInfoProto toValueInfo(String name) {
    TypeProto.Tensor.Builder t = TypeProto.Tensor.newBuilder().setElemType(elementType.code());
    if (dims != null) {
      TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
      for (Dim d : dims) {
        TensorShapeProto.Dimension.Builder db = TensorShapeProto.Dimension.newBuilder();
        if (d.isFixed()) {
          db.setDimValue(d.value());
        } else if (d.param() != null && !d.param().isEmpty()) {
          db.setDimParam(d.param());
        }
        s.addDim(db);
      }
      t.setShape(s);
    }
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(TypeProto.newBuilder().setTensorType(t))
        .build();
  }

  @Override
  public String toString() {
    String shape =
        dims == null ? "?" : dims.stream().map(Dim::toString).collect(Collectors.joining(", "));
    return elementType.displayName() + "[" + shape + "]";
  }
}

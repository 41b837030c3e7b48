package io.quantguard.onnx;

import io.quantguard.onnx.proto.Onnx.StringStringEntryProto;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.jspecify.annotations.Nullable;

/**
 * Resolves tensors whose bytes live outside the model file ({@code data_location = EXTERNAL}): the
 * {@code location} key names a file relative to the model's directory, {@code offset} and {@code
 * length} a byte range in it. Ranges are memory-mapped, so a model far larger than the heap can be
 * read tensor by tensor.
 */
public final class ExternalData {
  /** For models that were not read from a file: any external reference is an error. */
  public static final ExternalData NONE = new ExternalData(null, "<in-memory model>");

  private final @Nullable Path baseDir;
  private final String model;

  /**
   * @param baseDir directory the model file was read from; null for a model held in memory
   * @param model how to name the model in error messages (usually its path)
   */
  public ExternalData(@Nullable Path baseDir, String model) {
    this.baseDir = baseDir;
    this.model = model;
  }

  /** Where one external tensor's bytes are. {@code length} is -1 when the rest of the file. */
  public record Location(String file, long offset, long length) {}

  public static boolean isExternal(TensorProto t) {
    return t.getDataLocation() == TensorProto.DataLocation.EXTERNAL;
  }

  /** Parses the external_data entries of a tensor. */
  public Location location(TensorProto t) {
    String file = null;
    long offset = 0;
    long length = -1;
    for (StringStringEntryProto e : t.getExternalDataList()) {
      try {
        switch (e.getKey()) {
          case "location" -> file = e.getValue();
          case "offset" -> offset = Long.parseLong(e.getValue());
          case "length" -> length = Long.parseLong(e.getValue());
          default -> {
            // "checksum" and unknown keys carry no location information.
          }
        }
      } catch (NumberFormatException ex) {
        throw new InvalidModelException(
            model,
            "tensor '" + t.getName() + "' has a non-numeric external data " + e.getKey(),
            "re-export the model with valid external data offsets",
            ex);
      }
    }
    if (file == null || file.isEmpty()) {
      throw new InvalidModelException(
          model,
          "tensor '" + t.getName() + "' is marked EXTERNAL but names no location",
          "re-export the model, or save it with its weights inline");
    }
    if (offset < 0 || length < -1) {
      throw new InvalidModelException(
          model,
          "tensor '" + t.getName() + "' has a negative external data offset or length",
          "re-export the model");
    }
    return new Location(file, offset, length);
  }

  /** The resolved file of an external tensor, refusing paths that leave the model directory. */
  public Path file(TensorProto t) {
    Location loc = location(t);
    if (baseDir == null) {
      throw new InvalidModelException(
          model,
          "tensor '" + t.getName() + "' refers to external data file '" + loc.file() + "'",
          "load the model from a file so its external data can be found next to it");
    }
    Path p = baseDir.resolve(loc.file()).normalize();
    if (Path.of(loc.file()).isAbsolute() || !p.startsWith(baseDir.normalize())) {
      throw new InvalidModelException(
          model,
          "external data location '"
              + loc.file()
              + "' of tensor '"
              + t.getName()
              + "' points outside the model directory",
          "keep external data files next to the model");
    }
    return p;
  }

  /** Checks that the tensor's file exists and holds its whole byte range. */
  public void check(TensorProto t) {
    Location loc = location(t);
    Path p = file(t);
    if (!Files.isRegularFile(p)) {
      throw new InvalidModelException(
          model,
          "external data file '"
              + loc.file()
              + "' of tensor '"
              + t.getName()
              + "' is missing ("
              + p
              + ")",
          "copy the model together with its external data file(s)");
    }
    long size;
    try {
      size = Files.size(p);
    } catch (IOException e) {
      throw new InvalidModelException(
          model,
          "cannot read external data file " + p + ": " + e.getMessage(),
          "check its permissions",
          e);
    }
    long expected = expectedBytes(t);
    long length = loc.length() < 0 ? size - loc.offset() : loc.length();
    if (loc.offset() + length > size || length < 0) {
      throw new InvalidModelException(
          model,
          "external data of tensor '"
              + t.getName()
              + "' needs bytes "
              + loc.offset()
              + ".."
              + (loc.offset() + length)
              + " of "
              + p.getFileName()
              + ", which has only "
              + size,
          "the external data file is truncated or belongs to another model; re-export it");
    }
    if (expected >= 0 && length != expected) {
      throw new InvalidModelException(
          model,
          "external data of tensor '"
              + t.getName()
              + "' is "
              + length
              + " bytes but its shape and type need "
              + expected,
          "re-export the model");
    }
  }

  /** The tensor's bytes (little-endian, read-only, memory-mapped). */
  public ByteBuffer read(TensorProto t) {
    check(t);
    Location loc = location(t);
    Path p = file(t);
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      long length = loc.length() < 0 ? ch.size() - loc.offset() : loc.length();
      if (length > Integer.MAX_VALUE) {
        throw new InvalidModelException(
            model,
            "tensor '" + t.getName() + "' is " + length + " bytes; one tensor is limited to 2 GiB",
            "split the tensor in the exporting framework");
      }
      return ch.map(FileChannel.MapMode.READ_ONLY, loc.offset(), length)
          .order(ByteOrder.LITTLE_ENDIAN);
    } catch (IOException e) {
      throw new InvalidModelException(
          model, "cannot read external data " + p + ": " + e.getMessage(), "check the file", e);
    }
  }

  /** Bytes the tensor's shape and type imply, or -1 when it cannot be told (strings). */
  static long expectedBytes(TensorProto t) {
    DataType type = DataType.fromCode(t.getDataType());
    if (type.bits() == 0) {
      return -1;
    }
    return type.storageBytes(TensorCodec.elementCount(t));
  }
}

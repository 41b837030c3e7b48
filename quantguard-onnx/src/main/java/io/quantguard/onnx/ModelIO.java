package io.quantguard.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import io.quantguard.onnx.proto.Onnx.ModelProto;
import io.quantguard.onnx.proto.Onnx.StringStringEntryProto;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Objects;

/**
 * Loads and saves ONNX model files. Loading checks the model ({@link InvalidModelException} names
 * the file and the fault); saving writes to temporary files and renames them into place, so a
 * failed save never leaves a half-written model, and moves large weights to an external data file
 * when the model would not fit protobuf's 2 GiB message limit.
 */
public final class ModelIO {
  /** Protobuf cannot parse or write a single message of 2 GiB or more. */
  static final long PROTOBUF_LIMIT = Integer.MAX_VALUE;

  /** Keep a safety margin below the limit for the graph structure itself. */
  static final long INLINE_BUDGET = 1_800L * 1024 * 1024;

  private static final int ALIGNMENT = 4096;

  private ModelIO() {}

  /** Where tensor bytes go on save. */
  public enum ExternalMode {
    /**
     * Inline unless the weights would break the 2 GiB limit; then every tensor of 1 KiB or more
     * goes external.
     */
    AUTO,
    /** Every tensor inline (fails beyond 2 GiB). */
    INLINE,
    /** Every tensor of at least {@code threshold} bytes in {@code <model file>.data}. */
    EXTERNAL
  }

  /** How to save. */
  public record SaveOptions(ExternalMode mode, long thresholdBytes) {
    public static SaveOptions defaults() {
      return new SaveOptions(ExternalMode.AUTO, 1024);
    }

    public static SaveOptions external(long thresholdBytes) {
      return new SaveOptions(ExternalMode.EXTERNAL, thresholdBytes);
    }
  }

  /** Reads and checks a model file; external data is resolved relative to its directory. */
  public static OnnxModel load(Path file) {
    String name = file.toString();
    if (!Files.exists(file)) {
      throw new InvalidModelException(name, "file not found", "check the path");
    }
    if (Files.isDirectory(file)) {
      throw new InvalidModelException(
          name, "is a directory, not an .onnx file", "name the model file itself");
    }
    long size;
    try {
      size = Files.size(file);
    } catch (IOException e) {
      throw new InvalidModelException(
          name, "cannot be read: " + e.getMessage(), "check permissions", e);
    }
    if (size == 0) {
      throw new InvalidModelException(
          name, "is empty", "the download or export did not finish; fetch it again");
    }
    if (size >= PROTOBUF_LIMIT) {
      throw new InvalidModelException(
          name,
          "is " + size + " bytes; a protobuf message cannot exceed 2 GiB",
          "save the model with its weights as external data (onnx.save_model(..., save_as_external_data=True))");
    }
    ModelProto proto;
    try (InputStream in = Files.newInputStream(file)) {
      proto = parse(in, name);
    } catch (IOException e) {
      throw new InvalidModelException(
          name, "cannot be read: " + e.getMessage(), "check the file", e);
    }
    // An absolute path that could be opened as a file has a parent directory.
    Path dir = Objects.requireNonNull(file.toAbsolutePath().getParent());
    ExternalData external = new ExternalData(dir, name);
    checked(proto, external, name);
    return new OnnxModel(proto, external, name);
  }

  /** Reads a model from bytes (no external data possible). */
  public static OnnxModel load(byte[] bytes, String name) {
    if (bytes.length == 0) {
      throw new InvalidModelException(name, "is empty", "pass the bytes of an .onnx file");
    }
    ModelProto proto;
    try {
      proto = parse(CodedInputStream.newInstance(bytes), name);
    } catch (IOException e) {
      throw new InvalidModelException(
          name, "cannot be read: " + e.getMessage(), "check the file", e);
    }
    checked(proto, ExternalData.NONE, name);
    return new OnnxModel(proto, ExternalData.NONE, name);
  }

  private static ModelProto parse(InputStream in, String name) throws IOException {
    CodedInputStream cis = CodedInputStream.newInstance(in, 1 << 16);
    return parse(cis, name);
  }

  private static ModelProto parse(CodedInputStream cis, String name) throws IOException {
    cis.setSizeLimit(Integer.MAX_VALUE);
    try {
      ModelProto proto = ModelProto.parseFrom(cis);
      cis.checkLastTagWas(0);
      return proto;
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new InvalidModelException(
          name,
          "is not an ONNX model (protobuf parse failed: " + e.getMessage() + ")",
          "check that the file is a complete .onnx file, not truncated or of another format",
          e);
    } catch (RuntimeException e) {
      throw new InvalidModelException(
          name,
          "is not an ONNX model (" + e + ")",
          "check that the file is a complete .onnx file",
          e);
    }
  }

  private static void checked(ModelProto proto, ExternalData external, String name) {
    try {
      ModelCheck.check(proto, external, name);
    } catch (InvalidInputException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new InvalidModelException(
          name, "is not a valid ONNX model (" + e.getMessage() + ")", "re-export the model", e);
    }
  }

  /** Saves with {@link SaveOptions#defaults()}. */
  public static void save(OnnxModel model, Path file) {
    save(model, file, SaveOptions.defaults());
  }

  /**
   * Writes the model, with nodes in topological order. External data goes to {@code <file>.data}
   * beside it; both files appear atomically, the data file first.
   */
  public static void save(OnnxModel model, Path file, SaveOptions options) {
    model.graph().sortTopologically();
    ModelProto proto = model.toProto();
    List<TensorProto> inits = proto.getGraph().getInitializerList();
    long total = 0;
    for (TensorProto t : inits) {
      total += TensorCodec.storageBytes(t);
    }
    boolean external =
        switch (options.mode()) {
          case INLINE -> false;
          case EXTERNAL -> true;
          case AUTO -> total > INLINE_BUDGET;
        };
    Path abs = file.toAbsolutePath();
    Path dir = Objects.requireNonNull(abs.getParent());
    try {
      Files.createDirectories(dir);
      Path dataFile = dir.resolve(abs.getFileName() + ".data");
      Path tmpData = null;
      ModelProto.Builder out = proto.toBuilder();
      if (external) {
        tmpData = shareable(Files.createTempFile(dir, "." + abs.getFileName(), ".data.tmp"));
        try (FileChannel ch = FileChannel.open(tmpData, StandardOpenOption.WRITE)) {
          for (int i = 0; i < inits.size(); i++) {
            TensorProto t = inits.get(i);
            if (TensorCodec.storageBytes(t) >= options.thresholdBytes()
                && DataType.fromCode(t.getDataType()) != DataType.STRING) {
              out.getGraphBuilder()
                  .setInitializer(
                      i,
                      writeExternal(
                          t, model.externalData(), ch, dataFile.getFileName().toString()));
            } else {
              out.getGraphBuilder().setInitializer(i, inline(t, model.externalData()));
            }
          }
        }
      } else {
        for (int i = 0; i < inits.size(); i++) {
          out.getGraphBuilder().setInitializer(i, inline(inits.get(i), model.externalData()));
        }
      }
      ModelProto result = out.build();
      if (result.getSerializedSize() < 0 || (long) result.getSerializedSize() >= PROTOBUF_LIMIT) {
        throw new InvalidInputException(
            file.toString(),
            "the model would be larger than protobuf's 2 GiB limit with its weights inline",
            "save with external data (SaveOptions.external)");
      }
      Path tmpModel = shareable(Files.createTempFile(dir, "." + abs.getFileName(), ".tmp"));
      try {
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(tmpModel), 1 << 16)) {
          result.writeTo(os);
        }
        if (tmpData != null) {
          move(tmpData, dataFile);
        }
        move(tmpModel, abs);
      } finally {
        Files.deleteIfExists(tmpModel);
        if (tmpData != null) {
          Files.deleteIfExists(tmpData);
        }
      }
    } catch (IOException e) {
      throw new InvalidInputException(
          file.toString(),
          "cannot write the model: " + e.getMessage(),
          "check the directory and free space",
          e);
    }
  }

  /**
   * The model as bytes with every tensor inline, e.g. to open an ONNX Runtime session in memory.
   */
  /**
   * A temporary file is created readable by its owner only; the model it becomes must be readable
   * like any file written in place (rw-r--r--), e.g. by a serving process of another user.
   */
  private static Path shareable(Path tmp) throws IOException {
    try {
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: its defaults apply
    }
    return tmp;
  }

  public static byte[] toBytes(OnnxModel model) {
    ModelProto.Builder out = model.toProto().toBuilder();
    for (int i = 0; i < out.getGraph().getInitializerCount(); i++) {
      out.getGraphBuilder()
          .setInitializer(i, inline(out.getGraph().getInitializer(i), model.externalData()));
    }
    ModelProto m = out.build();
    if (m.getSerializedSize() < 0) {
      throw new InvalidInputException(
          model.source(),
          "is larger than 2 GiB with its weights inline",
          "save it with external data and load it from the file");
    }
    return m.toByteArray();
  }

  private static TensorProto inline(TensorProto t, ExternalData externalData) {
    if (!ExternalData.isExternal(t)) {
      return t;
    }
    ByteBuffer b = externalData.read(t);
    return t.toBuilder()
        .clearExternalData()
        .clearDataLocation()
        .setRawData(ByteString.copyFrom(b))
        .build();
  }

  private static TensorProto writeExternal(
      TensorProto t, ExternalData source, FileChannel ch, String location) throws IOException {
    ByteBuffer bytes = TensorCodec.rawBytes(t, source).duplicate();
    long offset = (ch.position() + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    ch.position(offset);
    long length = bytes.remaining();
    while (bytes.hasRemaining()) {
      ch.write(bytes);
    }
    return t.toBuilder()
        .clearRawData()
        .clearFloatData()
        .clearInt32Data()
        .clearInt64Data()
        .clearDoubleData()
        .clearUint64Data()
        .clearExternalData()
        .setDataLocation(TensorProto.DataLocation.EXTERNAL)
        .addExternalData(entry("location", location))
        .addExternalData(entry("offset", Long.toString(offset)))
        .addExternalData(entry("length", Long.toString(length)))
        .build();
  }

  private static StringStringEntryProto entry(String k, String v) {
    return StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    } catch (NoSuchFileException e) {
      throw new IOException("temporary file vanished: " + from, e);
    }
  }
}

package io.quantguard.runtime;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.quantguard.onnx.DataType;
import io.quantguard.onnx.ExternalData;
import io.quantguard.onnx.Graph;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.InvalidModelException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorType;
import io.quantguard.onnx.proto.Onnx.ValueInfoProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One ONNX Runtime session with explicit options. Inputs and outputs are heap {@link Tensor}s:
 * every native tensor and result is created and closed inside {@link #run}, so nothing native
 * escapes and nothing leaks however many times it runs. Any intermediate tensor can be exposed as
 * an extra output (what calibration needs) by opening the session with the tensor names to expose.
 */
public final class InferenceSession implements AutoCloseable {
  private static final OrtEnvironment ENV =
      OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "quantguard");

  private final OrtSession session;
  private final String modelName;
  private final Map<String, TensorType> inputs;
  private final List<String> outputs;
  private final SessionConfig config;
  private boolean closed;

  private InferenceSession(OrtSession session, String modelName, SessionConfig config)
      throws OrtException {
    this.session = session;
    this.modelName = modelName;
    this.config = config;
    Map<String, TensorType> in = new LinkedHashMap<>();
    for (Map.Entry<String, NodeInfo> e : session.getInputInfo().entrySet()) {
      if (e.getValue().getInfo() instanceof TensorInfo ti) {
        in.put(e.getKey(), TensorType.of(fromOrt(ti.type), ti.getShape()));
      }
    }
    this.inputs = Collections.unmodifiableMap(in);
    this.outputs = List.copyOf(session.getOutputNames());
  }

  /** Opens a model file (external data is found next to it). */
  public static InferenceSession open(Path model, SessionConfig config) {
    return create(model.toString(), config, opts -> ENV.createSession(model.toString(), opts));
  }

  /** Opens an in-memory model. */
  public static InferenceSession open(OnnxModel model, SessionConfig config) {
    return open(model, config, List.of());
  }

  /**
   * Opens a model with extra graph outputs for the named intermediate tensors, so {@link #run} can
   * return them. The caller's model is not changed.
   */
  public static InferenceSession open(
      OnnxModel model, SessionConfig config, Collection<String> expose) {
    OnnxModel m = expose.isEmpty() ? model : withOutputs(model, expose);
    if (hasExternalData(m)) {
      // ONNX Runtime resolves external data relative to a model file: write one next to a copy.
      try {
        Path dir = Files.createTempDirectory("quantguard-session");
        Path file = dir.resolve("model.onnx");
        ModelIO.save(m, file, ModelIO.SaveOptions.external(1024));
        try {
          return create(model.source(), config, opts -> ENV.createSession(file.toString(), opts));
        } finally {
          Files.deleteIfExists(dir.resolve("model.onnx.data"));
          Files.deleteIfExists(file);
          Files.deleteIfExists(dir);
        }
      } catch (IOException e) {
        throw new InvalidInputException(
            model.source(),
            "cannot stage the model for ONNX Runtime: " + e.getMessage(),
            "check the temporary directory",
            e);
      }
    }
    byte[] bytes = ModelIO.toBytes(m);
    return create(model.source(), config, opts -> ENV.createSession(bytes, opts));
  }

  private static boolean hasExternalData(OnnxModel m) {
    return m.graph().initializers().values().stream().anyMatch(ExternalData::isExternal);
  }

  /**
   * A copy of the model whose graph also outputs the given tensors (types declared where known).
   */
  public static OnnxModel withOutputs(OnnxModel model, Collection<String> tensors) {
    OnnxModel copy = model.copy();
    Graph g = copy.graph();
    Set<String> present = g.outputNames();
    for (String t : new LinkedHashSet<>(tensors)) {
      if (present.contains(t)) {
        continue;
      }
      ValueInfoProto vi =
          g.typeOf(t)
              .map(tt -> new TensorType(tt.elementType(), null).toValueInfo(t))
              .orElse(ValueInfoProto.newBuilder().setName(t).build());
      g.addOutput(vi);
    }
    return copy;
  }

  private interface Creator {
    OrtSession create(OrtSession.SessionOptions opts) throws OrtException;
  }

  private static InferenceSession create(String name, SessionConfig config, Creator creator) {
    try (OrtSession.SessionOptions opts = options(config)) {
      return new InferenceSession(creator.create(opts), name, config);
    } catch (OrtException e) {
      throw new InvalidModelException(
          name,
          "ONNX Runtime cannot load it: " + e.getMessage(),
          "check that the model is valid ONNX and uses operators this ONNX Runtime supports",
          e);
    }
  }

  private static OrtSession.SessionOptions options(SessionConfig config) throws OrtException {
    OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
    try {
      opts.setOptimizationLevel(
          switch (config.optimization()) {
            case DISABLED -> OrtSession.SessionOptions.OptLevel.NO_OPT;
            case BASIC -> OrtSession.SessionOptions.OptLevel.BASIC_OPT;
            case EXTENDED -> OrtSession.SessionOptions.OptLevel.EXTENDED_OPT;
            case ALL -> OrtSession.SessionOptions.OptLevel.ALL_OPT;
          });
      opts.setIntraOpNumThreads(config.intraOpThreads());
      opts.setInterOpNumThreads(config.interOpThreads());
      opts.setExecutionMode(
          config.interOpThreads() > 1
              ? OrtSession.SessionOptions.ExecutionMode.PARALLEL
              : OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
      if (config.provider() == SessionConfig.Provider.CUDA) {
        if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
          throw new InvalidInputException(
              "--provider cuda",
              "this ONNX Runtime build has no CUDA execution provider (available: "
                  + OrtEnvironment.getAvailableProviders()
                  + ")",
              "put com.microsoft.onnxruntime:onnxruntime_gpu on the class path, or use the CPU provider");
        }
        opts.addCUDA(0);
      }
      return opts;
    } catch (OrtException | RuntimeException e) {
      opts.close();
      throw e;
    }
  }

  public String modelName() {
    return modelName;
  }

  public SessionConfig config() {
    return config;
  }

  /** Inputs the caller feeds, with ONNX Runtime's view of their types (-1 for free dimensions). */
  public Map<String, TensorType> inputs() {
    return inputs;
  }

  public List<String> outputNames() {
    return outputs;
  }

  /** Runs with all outputs. */
  public Map<String, Tensor> run(Map<String, Tensor> feed) {
    return run(feed, outputs);
  }

  /** Runs and returns the requested outputs, copied to the heap, in the requested order. */
  public Map<String, Tensor> run(Map<String, Tensor> feed, Collection<String> wanted) {
    if (closed) {
      throw new IllegalStateException("session for " + modelName + " is closed");
    }
    Map<String, Tensor> bound = bind(feed);
    Map<String, OnnxTensor> native_ = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, Tensor> e : bound.entrySet()) {
        native_.put(e.getKey(), toOrt(e.getValue()));
      }
      Set<String> req = new LinkedHashSet<>(wanted);
      try (OrtSession.Result r = session.run(native_, req)) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, OnnxValue> e : r) {
          out.put(e.getKey(), fromOrt(e.getKey(), e.getValue()));
        }
        return out;
      }
    } catch (OrtException e) {
      throw new InvalidInputException(
          modelName,
          "ONNX Runtime failed to run it on inputs " + describe(bound) + ": " + e.getMessage(),
          "check that the data matches the model's inputs " + inputs,
          e);
    } finally {
      for (OnnxTensor t : native_.values()) {
        t.close();
      }
    }
  }

  /**
   * Matches data tensors to model inputs: by name; a single unnamed-looking input to the single
   * model input; {@code input_K} to the K-th input. Checks types and fixed dimensions.
   */
  Map<String, Tensor> bind(Map<String, Tensor> feed) {
    Map<String, Tensor> bound = new LinkedHashMap<>();
    List<String> names = new ArrayList<>(inputs.keySet());
    if (feed.keySet().containsAll(names)) {
      for (String n : names) {
        bound.put(n, feed.get(n));
      }
    } else if (names.size() == 1 && feed.size() == 1) {
      bound.put(names.get(0), feed.values().iterator().next());
    } else if (feed.size() == names.size()
        && feed.keySet().stream().allMatch(k -> k.matches("input_\\d+"))) {
      for (Map.Entry<String, Tensor> e : feed.entrySet()) {
        int k = Integer.parseInt(e.getKey().substring(6));
        if (k >= names.size()) {
          throw mismatch(feed);
        }
        bound.put(names.get(k), e.getValue());
      }
    } else {
      throw mismatch(feed);
    }
    for (Map.Entry<String, Tensor> e : bound.entrySet()) {
      TensorType want = inputs.get(e.getKey());
      Tensor got = e.getValue();
      if (got.type() != want.elementType()) {
        throw new InvalidInputException(
            "data for input '" + e.getKey() + "'",
            "is " + got + " but " + modelName + " wants " + want,
            "convert the data to "
                + want.elementType().displayName()
                + " (for example with the data source's dtype option)");
      }
      long[] ws = want.shape();
      long[] gs = got.shape();
      boolean ok = ws == null || ws.length == gs.length;
      for (int i = 0; ok && ws != null && i < ws.length; i++) {
        ok = ws[i] < 0 || ws[i] == gs[i];
      }
      if (!ok) {
        throw new InvalidInputException(
            "data for input '" + e.getKey() + "'",
            "has shape " + Arrays.toString(gs) + " but " + modelName + " wants " + want,
            "reshape the data (e.g. the data source's layout option) or pick the matching input");
      }
    }
    return bound;
  }

  private InvalidInputException mismatch(Map<String, Tensor> feed) {
    return new InvalidInputException(
        "data inputs " + feed.keySet(),
        "do not match the inputs of " + modelName + " " + inputs.keySet(),
        "name the data inputs after the model's (e.g. ?input="
            + inputs.keySet().iterator().next()
            + ")");
  }

  private static String describe(Map<String, Tensor> feed) {
    List<String> parts = new ArrayList<>();
    feed.forEach((k, v) -> parts.add(k + "=" + v));
    return String.join(", ", parts);
  }

  private static OnnxTensor toOrt(Tensor t) throws OrtException {
    long[] shape = t.shape();
    return switch (t.type()) {
      case FLOAT -> OnnxTensor.createTensor(ENV, FloatBuffer.wrap(t.floats()), shape);
      case INT64 -> OnnxTensor.createTensor(ENV, LongBuffer.wrap(t.longs()), shape);
      case INT32 -> OnnxTensor.createTensor(ENV, IntBuffer.wrap(t.ints()), shape);
      case INT8 ->
          OnnxTensor.createTensor(ENV, ByteBuffer.wrap(t.bytes()), shape, OnnxJavaType.INT8);
      case UINT8 ->
          OnnxTensor.createTensor(ENV, ByteBuffer.wrap(t.bytes()), shape, OnnxJavaType.UINT8);
      case BOOL ->
          OnnxTensor.createTensor(ENV, ByteBuffer.wrap(t.bytes()), shape, OnnxJavaType.BOOL);
      default -> throw new IllegalArgumentException("cannot feed " + t.type());
    };
  }

  private Tensor fromOrt(String name, OnnxValue v) throws OrtException {
    if (!(v instanceof OnnxTensor t)) {
      throw new InvalidInputException(
          modelName,
          "output '" + name + "' is a " + v.getType() + ", not a tensor",
          "expose only tensor values");
    }
    TensorInfo info = t.getInfo();
    long[] shape = info.getShape();
    return switch (info.type) {
      case FLOAT, FLOAT16, BFLOAT16 -> Tensor.ofFloats(array(t.getFloatBuffer()), shape);
      case DOUBLE -> {
        double[] d = new double[(int) info.getNumElements()];
        t.getDoubleBuffer().get(d);
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
          f[i] = (float) d[i];
        }
        yield Tensor.ofFloats(f, shape);
      }
      case INT64 -> {
        LongBuffer b = t.getLongBuffer();
        long[] l = new long[b.remaining()];
        b.get(l);
        yield Tensor.ofLongs(l, shape);
      }
      case INT32 -> {
        IntBuffer b = t.getIntBuffer();
        int[] l = new int[b.remaining()];
        b.get(l);
        yield Tensor.ofInts(l, shape);
      }
      case INT8, UINT8, BOOL -> {
        ByteBuffer b = t.getByteBuffer();
        byte[] l = new byte[b.remaining()];
        b.get(l);
        yield Tensor.ofBytes(fromOrt(info.type), l, shape);
      }
      default ->
          throw new InvalidInputException(
              modelName,
              "output '"
                  + name
                  + "' has element type "
                  + info.type
                  + ", which QuantGuard does not read",
              "expose only float, integer or bool outputs");
    };
  }

  /**
   * ONNX Runtime already copied the tensor into a heap buffer; take its array without a second
   * copy.
   */
  private static float[] array(FloatBuffer b) {
    if (b.hasArray()
        && b.arrayOffset() == 0
        && b.position() == 0
        && b.remaining() == b.array().length) {
      return b.array();
    }
    float[] f = new float[b.remaining()];
    b.get(f);
    return f;
  }

  private static DataType fromOrt(OnnxJavaType t) {
    return switch (t) {
      case FLOAT -> DataType.FLOAT;
      case DOUBLE -> DataType.DOUBLE;
      case INT8 -> DataType.INT8;
      case UINT8 -> DataType.UINT8;
      case INT16 -> DataType.INT16;
      case INT32 -> DataType.INT32;
      case INT64 -> DataType.INT64;
      case BOOL -> DataType.BOOL;
      case FLOAT16 -> DataType.FLOAT16;
      case BFLOAT16 -> DataType.BFLOAT16;
      case STRING -> DataType.STRING;
      default -> DataType.UNDEFINED;
    };
  }

  /** The ONNX Runtime version in use, for reports and reproducibility records. */
  public static String runtimeVersion() {
    return ENV.getVersion();
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      try {
        session.close();
      } catch (OrtException e) {
        throw new IllegalStateException("closing session for " + modelName, e);
      }
    }
  }
}

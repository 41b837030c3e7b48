package io.quantguard.runtime;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.quantguard.onnx.DataType;
import io.quantguard.onnx.ExternalData;
import io.quantguard.onnx.Float16;
import io.quantguard.onnx.Graph;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.InvalidModelException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorType;
import io.quantguard.onnx.proto.Onnx.ValueInfoProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * One ONNX Runtime session with explicit options. Inputs and outputs are heap {@link Tensor}s:
 * every native tensor and result is created and closed inside {@link #run}, so nothing native
 * escapes and nothing leaks however many times it runs. Any intermediate tensor can be exposed as
 * an extra output (what calibration needs) by opening the session with the tensor names to expose.
 *
 * <p>A session is safe to share between threads, and safe to close while other threads run it: each
 * run holds a lease, and {@link #close()} drains before it releases anything. Closing marks the
 * session closed at once — a run or {@link #lease()} that starts later fails with {@link
 * SessionClosedException} before doing anything, so the caller can retry elsewhere — then waits for
 * the runs and leases already under way, up to {@link #DRAIN} ({@link #close(Duration)} takes
 * another bound); the native session is released when the last of them ends, by whichever thread
 * ends it, so a run never finds its session freed under it (ONNX Runtime's Java binding checks for
 * a closed session only before a run starts; freeing it during a run can crash the JVM). To swap
 * the model behind a server without failing a request, hold sessions in a {@link SessionHolder}.
 */
public final class InferenceSession implements AutoCloseable {
  /** How long {@link #close()} waits for runs under way before it returns. */
  public static final Duration DRAIN = Duration.ofSeconds(30);

  /** Set in {@link #state} once closing began; the other bits count runs and leases under way. */
  private static final int CLOSING = Integer.MIN_VALUE;

  private final OrtEnvironment env;
  private final OrtSession session;
  private final String modelName;
  private final Map<String, TensorType> inputs;
  private final List<String> outputs;
  private final SessionConfig config;
  private final AtomicInteger state = new AtomicInteger();
  private final CountDownLatch released = new CountDownLatch(1);

  private InferenceSession(
      OrtEnvironment env, OrtSession session, String modelName, SessionConfig config)
      throws OrtException {
    this.env = env;
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
    return create(
        model.toString(), config, null, (env, opts) -> env.createSession(model.toString(), opts));
  }

  /**
   * Opens a model file with ONNX Runtime's profiler on: every run is recorded per node (kernel
   * time, operator type, input types) in a Chrome trace JSON file, which {@link #endProfiling}
   * writes. For finding where the time goes, not for timing: the recording costs time itself.
   *
   * @param tracePrefix the trace file's path without its suffix; ONNX Runtime appends the date
   */
  public static InferenceSession openProfiled(Path model, SessionConfig config, Path tracePrefix) {
    return create(
        model.toString(),
        config,
        tracePrefix,
        (env, opts) -> env.createSession(model.toString(), opts));
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
          return create(
              model.source(),
              config,
              null,
              (env, opts) -> env.createSession(file.toString(), opts));
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
    return create(model.source(), config, null, (env, opts) -> env.createSession(bytes, opts));
  }

  /**
   * The model as ONNX Runtime's graph optimizer leaves it at {@code level} on this provider (fused
   * operators, many of them in the {@code com.microsoft} domain), read back from the optimized
   * model file ONNX Runtime writes: a standard ONNX file that only ONNX Runtime runs. Levels above
   * {@link SessionConfig.Optimization#EXTENDED} add layout changes tied to this CPU and are
   * refused.
   */
  public static OnnxModel optimized(
      OnnxModel model, SessionConfig config, SessionConfig.Optimization level) {
    if (level == SessionConfig.Optimization.ALL) {
      throw InvalidInputException.forParameter(
          "optimization",
          "all",
          "rewrites the layout for this CPU (NCHWc), which a saved model must not carry",
          "use extended or basic");
    }
    SessionConfig c =
        new SessionConfig(
            level,
            config.intraOpThreads(),
            config.interOpThreads(),
            config.provider(),
            SessionConfig.ThreadPool.PER_SESSION);
    try {
      Path dir = Files.createTempDirectory("quantguard-optimize");
      Path in = dir.resolve("model.onnx");
      Path out = dir.resolve("optimized.onnx");
      try {
        ModelIO.save(model, in);
        OrtEnvironment env = RuntimeEnvironment.forSession(c);
        try (OrtSession.SessionOptions opts = options(c)) {
          opts.setOptimizedModelFilePath(out.toString());
          try (OrtSession s = env.createSession(in.toString(), opts)) {
            s.getNumInputs();
          }
        } catch (OrtException e) {
          throw new InvalidModelException(
              model.source(),
              "ONNX Runtime cannot optimize it: " + e.getMessage(),
              "check that the model is valid ONNX and runs in ONNX Runtime",
              e);
        }
        return ModelIO.load(Files.readAllBytes(out), model.source());
      } finally {
        try (var files = Files.list(dir)) {
          for (Path f : files.toList()) {
            Files.deleteIfExists(f);
          }
        }
        Files.deleteIfExists(dir);
      }
    } catch (IOException e) {
      throw new InvalidInputException(
          model.source(),
          "cannot stage the model for ONNX Runtime's optimizer: " + e.getMessage(),
          "check the temporary directory",
          e);
    }
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
    OrtSession create(OrtEnvironment env, OrtSession.SessionOptions opts) throws OrtException;
  }

  private static InferenceSession create(
      String name, SessionConfig config, @Nullable Path tracePrefix, Creator creator) {
    OrtEnvironment env = RuntimeEnvironment.forSession(config);
    try (OrtSession.SessionOptions opts = options(config)) {
      if (tracePrefix != null) {
        opts.enableProfiling(tracePrefix.toString());
      }
      return new InferenceSession(env, creator.create(env, opts), name, config);
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
      if (config.threadPool() == SessionConfig.ThreadPool.GLOBAL) {
        opts.disablePerSessionThreads();
      } else {
        opts.setIntraOpNumThreads(config.intraOpThreads());
        opts.setInterOpNumThreads(config.interOpThreads());
      }
      opts.setExecutionMode(
          config.interOpThreads() > 1
              ? OrtSession.SessionOptions.ExecutionMode.PARALLEL
              : OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
      if (config.provider() == SessionConfig.Provider.CUDA) {
        if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
          throw InvalidInputException.forParameter(
              "session.provider",
              "cuda",
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

  /**
   * Stops the profiler of a session opened with {@link #openProfiled} and returns the trace file it
   * wrote.
   */
  public Path endProfiling() {
    try {
      return Path.of(session.endProfiling());
    } catch (OrtException e) {
      throw new IllegalStateException("ending the profiler of " + modelName, e);
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

  /**
   * Runs and returns the requested outputs, copied to the heap, in the requested order.
   *
   * @throws SessionClosedException when the session is closing or closed (nothing ran)
   */
  public Map<String, Tensor> run(Map<String, Tensor> feed, Collection<String> wanted) {
    acquire();
    try {
      return runLeased(feed, wanted);
    } finally {
      release();
    }
  }

  /**
   * A lease that keeps this session open until it is closed, for a caller that runs it several
   * times as one unit or must not lose it to a concurrent {@link #close()} between two calls.
   *
   * @throws SessionClosedException when the session is closing or closed
   */
  public SessionLease lease() {
    acquire();
    return new SessionLease(this);
  }

  private void acquire() {
    while (true) {
      int s = state.get();
      if (s < 0) {
        throw new SessionClosedException("the session for " + modelName + " is closed");
      }
      if (state.compareAndSet(s, s + 1)) {
        return;
      }
    }
  }

  /**
   * Ends one run or lease; the last one to end after {@link #close()} began releases the session.
   */
  void release() {
    if (state.decrementAndGet() == CLOSING) {
      releaseNative();
    }
  }

  /** The body of {@link #run}, for a caller that holds a lease. */
  Map<String, Tensor> runLeased(Map<String, Tensor> feed, Collection<String> wanted) {
    return runNative(feed, wanted, this::fromOrt);
  }

  /**
   * Runs and returns the element type and shape of each requested output that is a tensor;
   * sequences, maps and optionals are left out. What learning a graph's tensor types needs: the
   * types are ONNX Runtime's own (a double stays double), and no value is copied.
   *
   * @throws SessionClosedException when the session is closing or closed (nothing ran)
   */
  public Map<String, TensorType> runForTypes(Map<String, Tensor> feed, Collection<String> wanted) {
    acquire();
    try {
      return runNative(
          feed,
          wanted,
          (name, v) ->
              v instanceof OnnxTensor t
                  ? TensorType.of(fromOrt(t.getInfo().type), t.getInfo().getShape())
                  : null);
    } finally {
      release();
    }
  }

  private interface Reader<T> {
    /** The value as the caller wants it, or null to leave this output out. */
    @Nullable T read(String name, OnnxValue value) throws OrtException;
  }

  private <T> Map<String, T> runNative(
      Map<String, Tensor> feed, Collection<String> wanted, Reader<T> reader) {
    Map<String, Tensor> bound = bind(feed);
    Map<String, OnnxTensor> native_ = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, Tensor> e : bound.entrySet()) {
        // bound holds only the model's own input names
        TensorType type = Objects.requireNonNull(inputs.get(e.getKey()));
        native_.put(e.getKey(), toOrt(e.getValue(), type.elementType()));
      }
      Set<String> req = new LinkedHashSet<>(wanted);
      try (OrtSession.Result r = session.run(native_, req)) {
        Map<String, T> out = new LinkedHashMap<>();
        for (Map.Entry<String, OnnxValue> e : r) {
          T value = reader.read(e.getKey(), e.getValue());
          if (value != null) {
            out.put(e.getKey(), value);
          }
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
   * model input; {@code input_K} to the K-th input. Checks types and fixed dimensions; float data
   * is accepted for a double or float16 input (converted when fed). Returns the feed keyed by input
   * name.
   */
  public Map<String, Tensor> bind(Map<String, Tensor> feed) {
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
      // bound holds only the model's own input names
      TensorType want = Objects.requireNonNull(inputs.get(e.getKey()));
      Tensor got = e.getValue();
      boolean widened =
          got.type() == DataType.FLOAT
              && (want.elementType() == DataType.DOUBLE || want.elementType() == DataType.FLOAT16);
      if (got.type() != want.elementType() && !widened) {
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

  private OnnxTensor toOrt(Tensor t, DataType want) throws OrtException {
    long[] shape = t.shape();
    if (want == DataType.DOUBLE && t.type() == DataType.FLOAT) {
      float[] f = t.floats();
      double[] d = new double[f.length];
      for (int i = 0; i < f.length; i++) {
        d[i] = f[i];
      }
      return OnnxTensor.createTensor(env, DoubleBuffer.wrap(d), shape);
    }
    if (want == DataType.FLOAT16 && t.type() == DataType.FLOAT) {
      float[] f = t.floats();
      ByteBuffer b = ByteBuffer.allocateDirect(2 * f.length).order(ByteOrder.nativeOrder());
      for (float v : f) {
        b.putShort(Float16.fromFloat(v));
      }
      b.rewind();
      return OnnxTensor.createTensor(env, b, shape, OnnxJavaType.FLOAT16);
    }
    return switch (t.type()) {
      case FLOAT -> OnnxTensor.createTensor(env, FloatBuffer.wrap(t.floats()), shape);
      case INT64 -> OnnxTensor.createTensor(env, LongBuffer.wrap(t.longs()), shape);
      case INT32 -> OnnxTensor.createTensor(env, IntBuffer.wrap(t.ints()), shape);
      case INT8 ->
          OnnxTensor.createTensor(env, ByteBuffer.wrap(t.bytes()), shape, OnnxJavaType.INT8);
      case UINT8 ->
          OnnxTensor.createTensor(env, ByteBuffer.wrap(t.bytes()), shape, OnnxJavaType.UINT8);
      case BOOL ->
          OnnxTensor.createTensor(env, ByteBuffer.wrap(t.bytes()), shape, OnnxJavaType.BOOL);
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

  /**
   * The ONNX Runtime version in use, for reports and reproducibility records. Read from the ONNX
   * Runtime jar, so asking does not create the process's environment before the first session
   * decides its thread pools.
   */
  public static String runtimeVersion() {
    String v = OrtEnvironment.class.getPackage().getImplementationVersion();
    return v != null ? v : RuntimeEnvironment.current().getVersion();
  }

  /** Closes with the default drain ({@link #DRAIN}); idempotent. See {@link #close(Duration)}. */
  @Override
  public void close() {
    close(DRAIN);
  }

  /**
   * Refuses new runs and leases at once, then waits up to {@code drain} for those under way. The
   * native session is released when the last of them ends (at once when none is under way); if some
   * are still running when the wait is over, the release is left to the last of them. Idempotent: a
   * second call waits the same way.
   *
   * @return whether the native session was released by the time this returned
   */
  public boolean close(Duration drain) {
    if (state.getAndUpdate(s -> s | CLOSING) == 0) {
      releaseNative();
    }
    try {
      return released.await(drain.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return released.getCount() == 0;
    }
  }

  /** Called exactly once: by close() when nothing was under way, else by the last release(). */
  private void releaseNative() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new IllegalStateException("closing the session for " + modelName, e);
    } finally {
      released.countDown();
    }
  }
}

package io.quantguard.quantize;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorType;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectStreamException;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * What one calibration pass must observe, fixed before any data is read: the model in the
 * normalized form the passes work on, the tensors whose {@link TensorStatistics} a recipe needs,
 * the tensors whose per-channel statistics (and Gram sample) it needs, the batch size and the
 * sample limit. It is the seam between running the model and quantizing: {@link #newAccumulator}
 * gives an accumulator that any machine feeds with the model's outputs for its part of the data,
 * accumulators {@link CalibrationAccumulator#merge merge}, and {@link #finish} turns the merged one
 * into the {@link Calibration} that {@link Quantizer#quantize(Calibration, Recipe,
 * Quantizer.Options)} takes, exactly as after a local pass. Serializable (Java serialization uses
 * {@link #writeTo}), so a distributed job ships it to its workers.
 */
public final class CalibrationPlan implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final int MAGIC = 0x51474350; // "QGCP"
  private static final int VERSION = 1;

  private final transient OnnxModel model;
  private final String sourceDigest;
  private final long originalOpset;
  private final Set<String> declared;
  private final Map<String, TensorType> types;
  private final Set<String> tensors;
  private final Map<String, ChannelStatistics.Layout> channels;
  private final int gramRows;
  private final int batchSize;
  private final long maxSamples;
  private transient byte @Nullable [] bytes;
  private transient @Nullable String id;

  CalibrationPlan(
      OnnxModel model,
      String sourceDigest,
      long originalOpset,
      Set<String> declared,
      Map<String, TensorType> types,
      Set<String> tensors,
      Map<String, ChannelStatistics.Layout> channels,
      int gramRows,
      int batchSize,
      long maxSamples) {
    if (batchSize <= 0) {
      throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
    }
    this.model = model;
    this.sourceDigest = sourceDigest;
    this.originalOpset = originalOpset;
    this.declared = new TreeSet<>(declared);
    this.types = new LinkedHashMap<>(types);
    this.tensors = new LinkedHashSet<>(tensors);
    this.channels = new LinkedHashMap<>(channels);
    this.gramRows = gramRows;
    this.batchSize = batchSize;
    this.maxSamples = maxSamples;
  }

  /**
   * The digest of a model as given to {@link Quantizer#planCalibration}: SHA-256 of its serialized
   * graph (with external data, of the references, not the weights).
   */
  static String digest(OnnxModel fp32) {
    try {
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(fp32.toProto().toByteArray()));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Whether this plan was made for {@code fp32} (the model before normalization). */
  public boolean isFor(OnnxModel fp32) {
    return sourceDigest.equals(digest(fp32));
  }

  /** The normalized FP32 model to run over the data (do not modify it). */
  public OnnxModel model() {
    return model;
  }

  /**
   * The tensors to request from the model as outputs: those observed that are not graph inputs
   * (their values come from the feed). Empty when only inputs are observed.
   */
  public List<String> outputs() {
    Set<String> inputs = new LinkedHashSet<>();
    model.graph().runtimeInputs().forEach(v -> inputs.add(v.getName()));
    Set<String> all = new LinkedHashSet<>(tensors);
    all.addAll(channels.keySet());
    List<String> out = new ArrayList<>();
    for (String t : all) {
      if (!inputs.contains(t)) {
        out.add(t);
      }
    }
    return out;
  }

  /**
   * Samples per batch. Batches start at multiples of it by global sample index, whoever runs them:
   * the average of per-batch extremes ({@code minmax-average}) is defined over these batches.
   */
  public int batchSize() {
    return batchSize;
  }

  /** The number of samples the recipe calibrates on: samples from this global index on are not. */
  public long maxSamples() {
    return maxSamples;
  }

  /** An empty accumulator for this plan. */
  public CalibrationAccumulator newAccumulator() {
    Map<String, TensorStatistics> stats = new LinkedHashMap<>();
    for (String t : tensors) {
      stats.put(t, new TensorStatistics(t));
    }
    Map<String, ChannelStatistics> cs = new LinkedHashMap<>();
    channels.forEach((t, l) -> cs.put(t, new ChannelStatistics(t, l, gramRows)));
    return new CalibrationAccumulator(id(), batchSize, stats, cs);
  }

  /** The calibration the accumulated statistics make; the accumulator must come from this plan. */
  public Calibration finish(CalibrationAccumulator accumulator) {
    return finish(accumulator, 0);
  }

  Calibration finish(CalibrationAccumulator accumulator, long nanos) {
    if (!accumulator.planId().equals(id())) {
      throw new IllegalArgumentException(
          "the statistics were accumulated for another calibration plan (plan "
              + accumulator.planId().substring(0, 12)
              + ", this one "
              + id().substring(0, 12)
              + "): calibrate with the same model and recipe");
    }
    return new Calibration(this, accumulator, nanos);
  }

  /** A calibration without data (no node is quantized statically). */
  Calibration withoutData() {
    return new Calibration(this, null, 0);
  }

  long originalOpset() {
    return originalOpset;
  }

  Set<String> declared() {
    return declared;
  }

  Map<String, TensorType> types() {
    return types;
  }

  /** SHA-256 of the plan's serialized form: accumulators carry it so foreign ones are refused. */
  public synchronized String id() {
    if (id == null) {
      try {
        id = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes()));
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
    return id;
  }

  private synchronized byte[] bytes() {
    if (bytes == null) {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      try {
        write(new DataOutputStream(b));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      bytes = b.toByteArray();
    }
    return bytes;
  }

  /** Writes the plan, model included. */
  public void writeTo(OutputStream out) throws IOException {
    byte[] b = bytes();
    DataOutputStream d = new DataOutputStream(out);
    d.writeInt(MAGIC);
    d.writeInt(VERSION);
    d.writeInt(b.length);
    d.write(b);
    d.flush();
  }

  private void write(DataOutputStream d) throws IOException {
    byte[] m = ModelIO.toBytes(model);
    d.writeUTF(model.source());
    d.writeUTF(sourceDigest);
    d.writeInt(m.length);
    d.write(m);
    d.writeLong(originalOpset);
    d.writeInt(declared.size());
    for (String s : declared) {
      d.writeUTF(s);
    }
    d.writeInt(types.size());
    for (Map.Entry<String, TensorType> e : types.entrySet()) {
      d.writeUTF(e.getKey());
      TensorType t = e.getValue();
      d.writeInt(t.elementType().code());
      List<TensorType.Dim> dims = t.dims();
      d.writeInt(dims == null ? -1 : dims.size());
      if (dims != null) {
        for (TensorType.Dim x : dims) {
          d.writeLong(x.value());
          d.writeBoolean(x.param() != null);
          if (x.param() != null) {
            d.writeUTF(x.param());
          }
        }
      }
    }
    d.writeInt(tensors.size());
    for (String t : tensors) {
      d.writeUTF(t);
    }
    d.writeInt(channels.size());
    for (Map.Entry<String, ChannelStatistics.Layout> e : channels.entrySet()) {
      d.writeUTF(e.getKey());
      d.writeInt(e.getValue().channels());
      d.writeUTF(e.getValue().axis().name());
      d.writeBoolean(e.getValue().gram());
    }
    d.writeInt(gramRows);
    d.writeInt(batchSize);
    d.writeLong(maxSamples);
    d.flush();
  }

  /** Reads what {@link #writeTo} wrote. */
  public static CalibrationPlan readFrom(InputStream in) throws IOException {
    DataInputStream head = new DataInputStream(in);
    if (head.readInt() != MAGIC) {
      throw new IOException("not a QuantGuard calibration plan");
    }
    int version = head.readInt();
    if (version != VERSION) {
      throw new IOException(
          "a calibration plan of format " + version + "; this version reads " + VERSION);
    }
    byte[] bytes = new byte[head.readInt()];
    head.readFully(bytes);
    CalibrationPlan plan = read(new DataInputStream(new ByteArrayInputStream(bytes)));
    plan.bytes = bytes;
    return plan;
  }

  private static CalibrationPlan read(DataInputStream d) throws IOException {
    String source = d.readUTF();
    String sourceDigest = d.readUTF();
    byte[] m = new byte[d.readInt()];
    d.readFully(m);
    OnnxModel model = ModelIO.load(m, source);
    long opset = d.readLong();
    Set<String> declared = new TreeSet<>();
    for (int i = d.readInt(); i > 0; i--) {
      declared.add(d.readUTF());
    }
    Map<String, TensorType> types = new LinkedHashMap<>();
    for (int i = d.readInt(); i > 0; i--) {
      String name = d.readUTF();
      DataType type = DataType.fromCode(d.readInt());
      int rank = d.readInt();
      List<TensorType.Dim> dims = null;
      if (rank >= 0) {
        dims = new ArrayList<>();
        for (int k = 0; k < rank; k++) {
          long v = d.readLong();
          dims.add(new TensorType.Dim(v, d.readBoolean() ? d.readUTF() : null));
        }
      }
      types.put(name, new TensorType(type, dims));
    }
    Set<String> tensors = new LinkedHashSet<>();
    for (int i = d.readInt(); i > 0; i--) {
      tensors.add(d.readUTF());
    }
    Map<String, ChannelStatistics.Layout> channels = new LinkedHashMap<>();
    for (int i = d.readInt(); i > 0; i--) {
      String name = d.readUTF();
      int c = d.readInt();
      ChannelStatistics.Axis axis = ChannelStatistics.Axis.valueOf(d.readUTF());
      channels.put(name, new ChannelStatistics.Layout(c, axis, d.readBoolean()));
    }
    int gramRows = d.readInt();
    int batchSize = d.readInt();
    long maxSamples = d.readLong();
    return new CalibrationPlan(
        model,
        sourceDigest,
        opset,
        declared,
        types,
        tensors,
        channels,
        gramRows,
        batchSize,
        maxSamples);
  }

  private Object writeReplace() throws ObjectStreamException {
    return WrittenForm.of(WrittenForm.Kind.PLAN, this::writeTo);
  }
}

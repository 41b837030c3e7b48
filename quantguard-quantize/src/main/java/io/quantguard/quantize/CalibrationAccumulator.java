package io.quantguard.quantize;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.DataFingerprint;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectStreamException;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The statistics of one part of the calibration data, for the tensors a {@link CalibrationPlan}
 * names: {@link TensorStatistics} and per-channel statistics per tensor, the data's {@link
 * DataFingerprint} and the sample count. Parts merge exactly: statistics of any partitioning of the
 * data on block boundaries ({@link DataFingerprint#BLOCK} samples, a multiple of the batch size),
 * merged in any order, are the same, and {@link #writeTo} writes the same bytes, as one pass over
 * all of it. Not thread-safe; Java serialization uses {@link #writeTo}.
 */
public final class CalibrationAccumulator implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final int MAGIC = 0x51474341; // "QGCA"
  private static final int VERSION = 1;

  private final String planId;
  private final int batchSize;
  private final Map<String, TensorStatistics> statistics;
  private final Map<String, ChannelStatistics> channels;
  private DataFingerprint fingerprint;
  private long samples;

  CalibrationAccumulator(
      String planId,
      int batchSize,
      Map<String, TensorStatistics> statistics,
      Map<String, ChannelStatistics> channels) {
    this(planId, batchSize, statistics, channels, new DataFingerprint(), 0);
  }

  private CalibrationAccumulator(
      String planId,
      int batchSize,
      Map<String, TensorStatistics> statistics,
      Map<String, ChannelStatistics> channels,
      DataFingerprint fingerprint,
      long samples) {
    this.planId = planId;
    this.batchSize = batchSize;
    this.statistics = statistics;
    this.channels = channels;
    this.fingerprint = fingerprint;
    this.samples = samples;
  }

  /**
   * Adds one batch: its inputs (for the fingerprint) and the values of the observed tensors.
   *
   * @param batch a batch of at most the plan's batch size starting at a multiple of it ({@link
   *     Batch#offset()} is the global index of its first sample)
   * @param values the model's outputs for the batch and its inputs as fed, by tensor name
   */
  public void add(Batch batch, Map<String, Tensor> values) {
    if (batch.offset() % batchSize != 0 || batch.size() > batchSize) {
      throw new IllegalArgumentException(
          "a batch of "
              + batch.size()
              + " samples from sample "
              + batch.offset()
              + ": calibration batches hold at most "
              + batchSize
              + " samples and start at a multiple of that, so that every partitioning of the"
              + " data sees the same batches");
    }
    fingerprint.add(batch);
    int n = batch.size();
    for (Map.Entry<String, TensorStatistics> e : statistics.entrySet()) {
      Tensor t = values.get(e.getKey());
      if (t != null) {
        e.getValue().add(t.floats());
      }
    }
    for (Map.Entry<String, ChannelStatistics> e : channels.entrySet()) {
      Tensor t = values.get(e.getKey());
      if (t != null) {
        e.getValue().add(t.floats(), t.shape(), batch.offset(), n);
      }
    }
    samples += n;
  }

  /** Adds the statistics of another part of the data, accumulated for the same plan. */
  public void merge(CalibrationAccumulator other) {
    if (!other.planId.equals(planId)) {
      throw new IllegalArgumentException(
          "cannot merge statistics accumulated for another calibration plan");
    }
    fingerprint.merge(other.fingerprint);
    // One plan, one set of tensors: every key here is in the other accumulator too.
    statistics.forEach(
        (t, s) ->
            s.merge(Objects.requireNonNull(other.statistics.get(t), "same plan, same tensors")));
    channels.forEach(
        (t, s) ->
            s.merge(Objects.requireNonNull(other.channels.get(t), "same plan, same tensors")));
    samples += other.samples;
  }

  /** Samples added so far, in all merged parts. */
  public long samples() {
    return samples;
  }

  String planId() {
    return planId;
  }

  ActivationCalibration.Result result(long nanos) {
    if (samples == 0) {
      throw new InvalidInputException(
          "calibration data", "holds no samples", "give representative calibration data");
    }
    return new ActivationCalibration.Result(
        statistics, channels, fingerprint.hex(), samples, nanos);
  }

  /** Writes the statistics; equal statistics write equal bytes. */
  public void writeTo(OutputStream out) throws IOException {
    DataOutputStream d = new DataOutputStream(out);
    d.writeInt(MAGIC);
    d.writeInt(VERSION);
    d.writeUTF(planId);
    d.writeInt(batchSize);
    d.writeLong(samples);
    d.flush();
    fingerprint.writeTo(d);
    d.writeInt(statistics.size());
    for (TensorStatistics s : statistics.values()) {
      s.writeTo(d);
    }
    d.writeInt(channels.size());
    for (ChannelStatistics s : channels.values()) {
      s.writeTo(d);
    }
    d.flush();
  }

  /** Reads what {@link #writeTo} wrote. */
  public static CalibrationAccumulator readFrom(InputStream in) throws IOException {
    DataInputStream d = new DataInputStream(in);
    if (d.readInt() != MAGIC) {
      throw new IOException("not QuantGuard calibration statistics");
    }
    int version = d.readInt();
    if (version != VERSION) {
      throw new IOException(
          "calibration statistics of format " + version + "; this version reads " + VERSION);
    }
    String planId = d.readUTF();
    int batchSize = d.readInt();
    long samples = d.readLong();
    DataFingerprint fingerprint = DataFingerprint.readFrom(d);
    Map<String, TensorStatistics> statistics = new LinkedHashMap<>();
    for (int i = d.readInt(); i > 0; i--) {
      TensorStatistics s = TensorStatistics.readFrom(d);
      statistics.put(s.tensor(), s);
    }
    Map<String, ChannelStatistics> channels = new LinkedHashMap<>();
    for (int i = d.readInt(); i > 0; i--) {
      ChannelStatistics s = ChannelStatistics.readFrom(d);
      channels.put(s.tensor(), s);
    }
    return new CalibrationAccumulator(
        planId, batchSize, statistics, channels, fingerprint, samples);
  }

  private Object writeReplace() throws ObjectStreamException {
    return WrittenForm.of(WrittenForm.Kind.ACCUMULATOR, this::writeTo);
  }
}

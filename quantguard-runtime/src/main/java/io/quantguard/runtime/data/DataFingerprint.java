package io.quantguard.runtime.data;

import io.quantguard.runtime.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * SHA-256 of a data stream's samples in order: for each sample, for each input (sorted by name),
 * the name, element type, per-sample shape and little-endian values. Batch size does not change it,
 * so a recipe plus this fingerprint identify calibration exactly, and a different sample set, order
 * or preprocessing shows up as a different fingerprint.
 */
public final class DataFingerprint {
  /**
   * The version of this definition, recorded beside every fingerprint: a fingerprint computed
   * another way (e.g. one that can be merged across partitions) gets another number.
   */
  public static final int SCHEME = 1;

  private final MessageDigest sha;
  private long samples;

  public DataFingerprint() {
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public void add(Batch batch) {
    Map<String, Tensor> sorted = new TreeMap<>(batch.inputs());
    int n = batch.size();
    boolean rows = batch.sharesFirstAxis();
    for (int i = 0; i < n; i++) {
      for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
        // A batch without a common first axis is one sample: its tensors are hashed whole.
        Tensor row = rows ? e.getValue().slice(i, i + 1) : e.getValue();
        sha.update(e.getKey().getBytes(StandardCharsets.UTF_8));
        ByteBuffer head = ByteBuffer.allocate(4 + 8 * row.rank()).order(ByteOrder.LITTLE_ENDIAN);
        head.putInt(row.type().code());
        long[] s = row.shape();
        for (int d = rows ? 1 : 0; d < s.length; d++) {
          head.putLong(s[d]);
        }
        sha.update(head.array(), 0, head.position());
        sha.update(littleEndian(row));
      }
    }
    samples += n;
  }

  static byte[] littleEndian(Tensor t) {
    Object d = t.data();
    if (d instanceof byte[] b) {
      return b;
    }
    int n = (int) t.elementCount();
    ByteBuffer b;
    if (d instanceof float[] f) {
      b = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
      b.asFloatBuffer().put(f);
    } else if (d instanceof long[] l) {
      b = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
      b.asLongBuffer().put(l);
    } else {
      b = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
      b.asIntBuffer().put((int[]) d);
    }
    return b.array();
  }

  public long samples() {
    return samples;
  }

  /** The hex digest so far (the fingerprint keeps accepting data afterwards). */
  public String hex() {
    try {
      return HexFormat.of().formatHex(((MessageDigest) sha.clone()).digest());
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException(e);
    }
  }
}

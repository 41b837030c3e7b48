package io.quantguard.runtime.data;

import io.quantguard.runtime.Tensor;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * A fingerprint of a data set that separate machines can compute on parts of it and combine. The
 * samples fall into fixed blocks of {@link #BLOCK} by their global index ({@link Batch#offset()}
 * plus the position in the batch); each block has a SHA-256 of its samples in order (for each
 * sample, for each input sorted by name: the name, element type, per-sample shape and little-endian
 * values), and the fingerprint is a SHA-256 over the block digests in block order and the sample
 * count. Batch size and partitioning do not change it as long as no block is split between two
 * parts ({@link #merge} refuses that), so a recipe plus this fingerprint identify calibration
 * exactly, wherever it ran; a different sample set, order or preprocessing shows up as a different
 * fingerprint.
 */
public final class DataFingerprint {
  /**
   * The version of this definition, recorded beside every fingerprint: 1 was one SHA-256 over all
   * samples in order, which parts of the data could not combine; 2 is the block scheme.
   */
  public static final int SCHEME = 2;

  /** Samples per block: partitions of a distributed job start at multiples of this. */
  public static final int BLOCK = 256;

  private static final int MAGIC = 0x51474650; // "QGFP"

  /** Digests of finished blocks by block number. */
  private final TreeMap<Long, byte[]> blocks = new TreeMap<>();

  private long openBlock = -1;
  private @Nullable MessageDigest open;
  private long samples;

  public DataFingerprint() {}

  /** Adds a batch whose first sample has global index {@link Batch#offset()}. */
  public void add(Batch batch) {
    Map<String, Tensor> sorted = new TreeMap<>(batch.inputs());
    int n = batch.size();
    boolean rows = batch.sharesFirstAxis();
    for (int i = 0; i < n; i++) {
      MessageDigest sha = blockOf(batch.offset() + i);
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

  private MessageDigest blockOf(long sample) {
    long block = Math.floorDiv(sample, BLOCK);
    if (block != openBlock || open == null) {
      close();
      if (blocks.containsKey(block)) {
        throw new IllegalArgumentException(
            "sample "
                + sample
                + " falls in block "
                + block
                + ", which this fingerprint already closed: add each block's samples in order"
                + " and in one part");
      }
      open = sha256();
      openBlock = block;
    }
    return open;
  }

  /** Finishes the open block; a block cannot be continued once another began. */
  private void close() {
    if (open != null) {
      blocks.put(openBlock, open.digest());
      open = null;
      openBlock = -1;
    }
  }

  /**
   * Adds the blocks of another part of the data. No block may be in both parts: a partitioning must
   * cut the data at multiples of {@link #BLOCK} samples.
   */
  public void merge(DataFingerprint other) {
    close();
    other.close();
    for (Long b : other.blocks.keySet()) {
      if (blocks.containsKey(b)) {
        throw new IllegalArgumentException(
            "block "
                + b
                + " (samples from "
                + b * BLOCK
                + ") is split between two parts of the data: cut the data at multiples of "
                + BLOCK
                + " samples");
      }
    }
    blocks.putAll(other.blocks);
    samples += other.samples;
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

  /** The hex digest of everything added so far; adding continues in the next block. */
  public String hex() {
    close();
    MessageDigest sha = sha256();
    ByteBuffer head = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
    head.putInt(SCHEME).putInt(BLOCK).putLong(samples);
    sha.update(head.array());
    for (Map.Entry<Long, byte[]> e : blocks.entrySet()) {
      sha.update(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(e.getKey()).array());
      sha.update(e.getValue());
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  /** Writes the block digests, so a part computed elsewhere can be merged later. */
  public void writeTo(OutputStream out) throws IOException {
    close();
    DataOutputStream d = new DataOutputStream(out);
    d.writeInt(MAGIC);
    d.writeInt(SCHEME);
    d.writeInt(BLOCK);
    d.writeLong(samples);
    d.writeInt(blocks.size());
    for (Map.Entry<Long, byte[]> e : blocks.entrySet()) {
      d.writeLong(e.getKey());
      d.write(e.getValue());
    }
    d.flush();
  }

  /** Reads what {@link #writeTo} wrote. */
  public static DataFingerprint readFrom(InputStream in) throws IOException {
    DataInputStream d = new DataInputStream(in);
    if (d.readInt() != MAGIC) {
      throw new IOException("not a QuantGuard data fingerprint");
    }
    int scheme = d.readInt();
    int block = d.readInt();
    if (scheme != SCHEME || block != BLOCK) {
      throw new IOException(
          "a data fingerprint of scheme "
              + scheme
              + " with blocks of "
              + block
              + " samples; this version reads scheme "
              + SCHEME
              + " with blocks of "
              + BLOCK);
    }
    DataFingerprint f = new DataFingerprint();
    f.samples = d.readLong();
    int n = d.readInt();
    for (int i = 0; i < n; i++) {
      long b = d.readLong();
      byte[] digest = new byte[32];
      d.readFully(digest);
      f.blocks.put(b, digest);
    }
    return f;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

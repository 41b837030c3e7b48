package io.quantguard.evaluate;

import io.quantguard.report.EvaluationReport;
import io.quantguard.report.Sha256;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Data hygiene: finds exact duplicate inputs inside the test data and test inputs that also occur
 * in the calibration data, by SHA-256 of each sample's input tensors (input names, element types
 * and values, in input-name order). Where the batch has an {@code attention_mask}, token inputs are
 * hashed over their unmasked positions only, so the same text padded to different lengths in
 * different batches is still the same input. 128 bits of each digest are kept (16 bytes per
 * distinct sample; a chance collision among 10<sup>9</sup> samples is below 10<sup>-20</sup>).
 */
final class InputHashes {
  private static final int EXAMPLES = 10;

  private record Digest(long hi, long lo) {}

  private final MessageDigest sha256;
  private final Map<Digest, String> firstSeen = new HashMap<>();
  private final Set<Digest> calibration = new HashSet<>();
  private long testSamples;
  private long duplicates;
  private long calibrationSamples;
  private long inCalibration;
  private final List<String> examples = new ArrayList<>();
  private ByteBuffer buffer = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

  InputHashes() {
    sha256 = Sha256.digest();
  }

  void addCalibration(Batch batch) {
    for (int r = 0; r < batch.size(); r++) {
      calibration.add(digest(batch, r));
      calibrationSamples++;
    }
  }

  void addTest(String dataset, Batch batch) {
    for (int r = 0; r < batch.size(); r++) {
      Digest d = digest(batch, r);
      String where = dataset + "#" + (batch.offset() + r);
      testSamples++;
      String first = firstSeen.putIfAbsent(d, where);
      if (first != null) {
        duplicates++;
        if (examples.size() < EXAMPLES) {
          examples.add(where + " duplicates " + first);
        }
      }
      if (calibration.contains(d)) {
        inCalibration++;
        if (examples.size() < EXAMPLES) {
          examples.add(where + " is also in the calibration data");
        }
      }
    }
  }

  EvaluationReport.Hygiene summary() {
    return new EvaluationReport.Hygiene(
        testSamples,
        firstSeen.size(),
        duplicates,
        calibrationSamples,
        inCalibration,
        List.copyOf(examples));
  }

  private Digest digest(Batch batch, int row) {
    Map<String, Tensor> inputs = new TreeMap<>(batch.inputs());
    Tensor mask = inputs.get("attention_mask");
    for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
      Tensor t = e.getValue();
      sha256.update(e.getKey().getBytes(StandardCharsets.UTF_8));
      sha256.update((byte) t.type().ordinal());
      int width = (int) (t.elementCount() / Math.max(1, t.batchSize()));
      boolean masked =
          mask != null
              && t.rank() == 2
              && mask.rank() == 2
              && mask.elementCount() == t.elementCount();
      int bytes = width * 8;
      if (buffer.capacity() < bytes) {
        buffer = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
      }
      buffer.clear();
      int base = row * width;
      Object data = t.data();
      if (!masked || mask == null) {
        // Bulk copies through typed views: hashing 10,000 images costs milliseconds.
        if (data instanceof float[] f) {
          buffer.asFloatBuffer().put(f, base, width);
          buffer.position(width * 4);
        } else if (data instanceof long[] l) {
          buffer.asLongBuffer().put(l, base, width);
          buffer.position(width * 8);
        } else if (data instanceof int[] n) {
          buffer.asIntBuffer().put(n, base, width);
          buffer.position(width * 4);
        } else {
          buffer.put((byte[]) data, base, width);
        }
      } else {
        for (int i = 0; i < width; i++) {
          if (mask.get(base + i) == 0) {
            continue;
          }
          if (data instanceof float[] f) {
            buffer.putFloat(f[base + i]);
          } else if (data instanceof long[] l) {
            buffer.putLong(l[base + i]);
          } else if (data instanceof int[] n) {
            buffer.putInt(n[base + i]);
          } else {
            buffer.put(((byte[]) data)[base + i]);
          }
        }
      }
      sha256.update(buffer.array(), 0, buffer.position());
    }
    byte[] h = sha256.digest();
    ByteBuffer b = ByteBuffer.wrap(h);
    return new Digest(b.getLong(), b.getLong());
  }
}

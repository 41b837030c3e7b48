package io.quantguard.evaluate.task;

import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.CalibrationError;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Classification rows waiting to be counted into the Poisson replicates. Counting a few thousand
 * rows replicate by replicate keeps one replicate's {@link ClassCounts} in cache while the rows
 * pass; counting each batch's few rows of a slice at once would fetch every replicate's counts from
 * memory again and again. Rows of one type (label, predictions, top-k hits, near tie) add their
 * weights first and reach the counts once per replicate. Holds at most {@value #ROWS} rows.
 */
final class PendingRows {
  static final int ROWS = 4096;

  private final long[] hash = new long[ROWS];
  private final long[] code = new long[ROWS];
  private final byte[] baseBin = new byte[ROWS];
  private final byte[] modelBin = new byte[ROWS];
  private final long[] baseFixed = new long[ROWS];
  private final long[] modelFixed = new long[ROWS];
  private int size;

  boolean full() {
    return size == ROWS;
  }

  /**
   * @param rowHash the row's {@link Bootstrap#rowHash}
   * @param code the row's type (see {@link ClassCounts#addType})
   */
  void add(long rowHash, long code, float baseConfidence, float modelConfidence) {
    hash[size] = rowHash;
    this.code[size] = code;
    baseBin[size] = (byte) CalibrationError.bin(baseConfidence);
    modelBin[size] = (byte) CalibrationError.bin(modelConfidence);
    baseFixed[size] = ClassCounts.fixed(baseConfidence);
    modelFixed[size] = ClassCounts.fixed(modelConfidence);
    size++;
  }

  /** Counts the rows into every replicate, each weighted by its Poisson draw, and empties. */
  void flushInto(ClassCounts[] replicates, Bootstrap bootstrap) {
    Map<Long, Integer> ids = new HashMap<>();
    long[] typeCode = new long[size];
    int[] type = new int[size];
    for (int i = 0; i < size; i++) {
      long c = code[i];
      type[i] =
          ids.computeIfAbsent(
              c,
              x -> {
                typeCode[ids.size()] = x;
                return ids.size();
              });
    }
    long[] typeWeight = new long[ids.size()];
    for (int r = 0; r < replicates.length; r++) {
      ClassCounts counts = replicates[r];
      Arrays.fill(typeWeight, 0);
      for (int i = 0; i < size; i++) {
        int w = bootstrap.poissonWeight(hash[i], r);
        if (w == 0) {
          continue;
        }
        typeWeight[type[i]] += w;
        long c = code[i];
        int y = (int) (c & 0xffff) - 1;
        if (y >= 0) {
          counts.addConfidence(
              baseBin[i],
              baseFixed[i],
              ((c >>> 16) & 0xffff) == y,
              modelBin[i],
              modelFixed[i],
              ((c >>> 32) & 0xffff) == y,
              w);
        }
      }
      for (int t = 0; t < typeWeight.length; t++) {
        if (typeWeight[t] != 0) {
          counts.addType(typeCode[t], typeWeight[t]);
        }
      }
    }
    size = 0;
  }
}

package io.quantguard.evaluate.task;

import io.quantguard.evaluate.CalibrationError;
import io.quantguard.evaluate.ConfusionMatrix;
import io.quantguard.report.ReliabilityBin;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The sufficient statistics of classification's headline metrics on one weighting of the rows (all
 * ones: the data as it is; Poisson or multinomial counts: a bootstrap replicate): per class the
 * labels, predictions and hits of model and baseline, flips, top-k hits, and per confidence bin the
 * counts, hits and confidence sums behind the ECE. Accuracy, macro F1, top-k accuracy, ECE and the
 * flip rates follow from it alone, so a replicate costs a fixed few hundred numbers however many
 * rows it weighs.
 *
 * <p>Everything is a whole number, so any split of the rows, merged in any order, gives the same
 * state bit for bit: confidences are summed in fixed point, each one truncated to a multiple of
 * 2<sup>−32</sup> before it is added (an error below 2.4·10<sup>−10</sup> per row, far under what a
 * report prints). The fixed-point sums hold up to 2<sup>31</sup> weighted rows.
 */
final class ClassCounts implements Serializable {
  private static final long serialVersionUID = 1L;

  private static final double FIXED = 0x1p32;

  private long rows;
  private long labeled;
  private long flipped;
  private long flippedNearTie;
  private long baseTopHits;
  private long modelTopHits;
  private long[] actual = new long[0];
  private long[] baseTp = new long[0];
  private long[] modelTp = new long[0];
  private long[] basePredicted = new long[0];
  private long[] modelPredicted = new long[0];
  private final long[] baseBinCount = new long[CalibrationError.BINS];
  private final long[] modelBinCount = new long[CalibrationError.BINS];
  private final long[] baseBinHits = new long[CalibrationError.BINS];
  private final long[] modelBinHits = new long[CalibrationError.BINS];
  private final long[] baseBinConfidence = new long[CalibrationError.BINS];
  private final long[] modelBinConfidence = new long[CalibrationError.BINS];

  /** The confidence in fixed point, as it is summed. */
  static long fixed(float confidence) {
    return (long) (confidence * FIXED);
  }

  /**
   * Adds {@code w} copies of a row of this type (see {@link ClassificationMetrics}: label + 1 in
   * bits 0–15, baseline and model class in 16–31 and 32–47, baseline and model top-k hit in 48 and
   * 49, baseline near tie in 50).
   */
  void addType(long code, long w) {
    int y = (int) (code & 0xffff) - 1;
    int bp = (int) (code >>> 16) & 0xffff;
    int mp = (int) (code >>> 32) & 0xffff;
    rows += w;
    if (bp != mp) {
      flipped += w;
      flippedNearTie += w * ((code >>> 50) & 1);
    }
    if (y < 0) {
      return;
    }
    fit(Math.max(y, Math.max(bp, mp)) + 1);
    labeled += w;
    actual[y] += w;
    basePredicted[bp] += w;
    modelPredicted[mp] += w;
    if (bp == y) {
      baseTp[y] += w;
    }
    if (mp == y) {
      modelTp[y] += w;
    }
    baseTopHits += w * ((code >>> 48) & 1);
    modelTopHits += w * ((code >>> 49) & 1);
  }

  /**
   * Adds {@code w} copies of a labeled row's confidences (bins by {@link CalibrationError#bin},
   * confidences by {@link #fixed}) and whether each model was right.
   */
  void addConfidence(
      int baseBin,
      long baseConfidence,
      boolean baseHit,
      int modelBin,
      long modelConfidence,
      boolean modelHit,
      long w) {
    baseBinCount[baseBin] += w;
    baseBinConfidence[baseBin] += w * baseConfidence;
    modelBinCount[modelBin] += w;
    modelBinConfidence[modelBin] += w * modelConfidence;
    if (baseHit) {
      baseBinHits[baseBin] += w;
    }
    if (modelHit) {
      modelBinHits[modelBin] += w;
    }
  }

  void merge(ClassCounts o) {
    rows += o.rows;
    labeled += o.labeled;
    flipped += o.flipped;
    flippedNearTie += o.flippedNearTie;
    baseTopHits += o.baseTopHits;
    modelTopHits += o.modelTopHits;
    fit(o.actual.length);
    add(actual, o.actual);
    add(baseTp, o.baseTp);
    add(modelTp, o.modelTp);
    add(basePredicted, o.basePredicted);
    add(modelPredicted, o.modelPredicted);
    add(baseBinCount, o.baseBinCount);
    add(modelBinCount, o.modelBinCount);
    add(baseBinHits, o.baseBinHits);
    add(modelBinHits, o.modelBinHits);
    add(baseBinConfidence, o.baseBinConfidence);
    add(modelBinConfidence, o.modelBinConfidence);
  }

  /** Back to empty, for reuse on the next replicate. */
  void clear() {
    rows = labeled = flipped = flippedNearTie = baseTopHits = modelTopHits = 0;
    for (long[] a :
        List.of(
            actual,
            baseTp,
            modelTp,
            basePredicted,
            modelPredicted,
            baseBinCount,
            modelBinCount,
            baseBinHits,
            modelBinHits,
            baseBinConfidence,
            modelBinConfidence)) {
      Arrays.fill(a, 0);
    }
  }

  private static void add(long[] into, long[] from) {
    for (int i = 0; i < from.length; i++) {
      into[i] += from[i];
    }
  }

  /** Grows the per-class counts to at least {@code classes} classes. */
  void fit(int classes) {
    if (classes > actual.length) {
      actual = Arrays.copyOf(actual, classes);
      baseTp = Arrays.copyOf(baseTp, classes);
      modelTp = Arrays.copyOf(modelTp, classes);
      basePredicted = Arrays.copyOf(basePredicted, classes);
      modelPredicted = Arrays.copyOf(modelPredicted, classes);
    }
  }

  /**
   * Fills the headline metrics in the order of {@link ClassificationMetrics}' specs: accuracy,
   * macro F1, top-k accuracy (when {@code withTopK}), ECE (when {@code labeledMetrics}), then the
   * flip rate and its low-margin and confident parts; NaN where a metric has no rows.
   */
  void values(boolean labeledMetrics, boolean withTopK, int classes, double[] m, double[] b) {
    fit(classes);
    int i = 0;
    if (labeledMetrics) {
      double ln = labeled == 0 ? Double.NaN : labeled;
      m[i] = sum(modelTp) / ln;
      b[i++] = sum(baseTp) / ln;
      m[i] = ConfusionMatrix.macroF1(modelTp, modelPredicted, actual);
      b[i++] = ConfusionMatrix.macroF1(baseTp, basePredicted, actual);
      if (withTopK) {
        m[i] = modelTopHits / ln;
        b[i++] = baseTopHits / ln;
      }
      m[i] = calibrationGap(modelBinHits, modelBinConfidence) / ln;
      b[i++] = calibrationGap(baseBinHits, baseBinConfidence) / ln;
    }
    double all = rows == 0 ? Double.NaN : rows;
    m[i] = flipped / all;
    b[i++] = 0;
    m[i] = flippedNearTie / all;
    b[i++] = 0;
    m[i] = (flipped - flippedNearTie) / all;
    b[i] = 0;
  }

  /** Σ over bins of |hits − Σ confidence|, each bin's gap exact in fixed point. */
  private static double calibrationGap(long[] hits, long[] confidence) {
    double s = 0;
    for (int bin = 0; bin < hits.length; bin++) {
      s += Math.abs((double) ((hits[bin] << 32) - confidence[bin])) / FIXED;
    }
    return s;
  }

  /** The model's reliability diagram: one entry per non-empty bin. */
  List<ReliabilityBin> modelBins() {
    List<ReliabilityBin> out = new ArrayList<>();
    for (int bin = 0; bin < CalibrationError.BINS; bin++) {
      long n = modelBinCount[bin];
      if (n > 0) {
        out.add(
            new ReliabilityBin(
                (double) bin / CalibrationError.BINS,
                (double) (bin + 1) / CalibrationError.BINS,
                n,
                (double) modelBinHits[bin] / n,
                modelBinConfidence[bin] / FIXED / n));
      }
    }
    return out;
  }

  private static double sum(long[] v) {
    long s = 0;
    for (long x : v) {
      s += x;
    }
    return s;
  }
}

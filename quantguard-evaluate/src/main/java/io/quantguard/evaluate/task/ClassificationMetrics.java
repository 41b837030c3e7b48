package io.quantguard.evaluate.task;

import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.CalibrationError;
import io.quantguard.evaluate.ConfusionMatrix;
import io.quantguard.evaluate.McNemar;
import io.quantguard.evaluate.Observation;
import io.quantguard.evaluate.PairedMetrics;
import io.quantguard.evaluate.SampleTable;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.report.ClassAverages;
import io.quantguard.report.ClassScores;
import io.quantguard.report.ClassificationDetail;
import io.quantguard.report.McNemarTest;
import io.quantguard.report.MetricSpec;
import io.quantguard.report.TaskResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Classification metrics of one model against the labels and the baseline: confusion matrices of
 * model and baseline, the flip matrix (baseline class → model class), McNemar's discordant counts,
 * calibration bins, and per sample the label, both predictions, both top-k hits, both confidences
 * and whether the baseline's prediction was a near tie, for the bootstrap. Samples without a label
 * (-1) count for flips only.
 *
 * <p>Flips split by the baseline's margin (top-1 minus top-2 probability): {@code
 * low_margin_flip_rate} counts the flips where that margin is below the threshold (the baseline
 * nearly tied, so any noise may flip it), {@code confident_flip_rate} the others, where the
 * baseline was sure and the candidate still disagrees. The two add up to {@code flip_rate}.
 *
 * <p>Serializable, so that accumulators filled on other machines merge where the report is made;
 * every row also keeps its key, so that under Poisson resampling the rows are read in key order and
 * the result does not depend on the order of merges.
 */
final class ClassificationMetrics implements PairedMetrics<ClassPredictions>, java.io.Serializable {
  private static final long serialVersionUID = 1L;

  /** Classes fit the 16 bits a bootstrap row type gives them. */
  private static final int MAX_CLASSES = 65_535;

  private final int k;
  private final double lowMargin;
  private final List<String> classNames;
  private final ConfusionMatrix model;
  private final ConfusionMatrix baseline;
  private final ConfusionMatrix flips;
  private long baselineOnlyCorrect;
  private long modelOnlyCorrect;
  private int classes;
  private int topK;
  private final KeyColumn keys;
  private final IntColumn label;
  private final IntColumn basePred;
  private final IntColumn modelPred;
  private final BitColumn baseTop;
  private final BitColumn modelTop;
  private final BitColumn baseNearTie;
  private final FloatColumn baseConf;
  private final FloatColumn modelConf;

  /**
   * @param classNames the names of the first classes (others are named by their number)
   */
  ClassificationMetrics(int k, double lowMargin, List<String> classNames) {
    this.k = k;
    this.lowMargin = lowMargin;
    this.classNames = List.copyOf(classNames);
    this.model = new ConfusionMatrix();
    this.baseline = new ConfusionMatrix();
    this.flips = new ConfusionMatrix();
    this.keys = new KeyColumn();
    this.label = new IntColumn();
    this.basePred = new IntColumn();
    this.modelPred = new IntColumn();
    this.baseTop = new BitColumn();
    this.modelTop = new BitColumn();
    this.baseNearTie = new BitColumn();
    this.baseConf = new FloatColumn();
    this.modelConf = new FloatColumn();
  }

  /** The same counts with the per-sample columns in the given order of rows. */
  private ClassificationMetrics(ClassificationMetrics o, int[] order) {
    this.k = o.k;
    this.lowMargin = o.lowMargin;
    this.classNames = o.classNames;
    this.model = o.model;
    this.baseline = o.baseline;
    this.flips = o.flips;
    this.baselineOnlyCorrect = o.baselineOnlyCorrect;
    this.modelOnlyCorrect = o.modelOnlyCorrect;
    this.classes = o.classes;
    this.topK = o.topK;
    this.keys = o.keys.permuted(order);
    this.label = o.label.permuted(order);
    this.basePred = o.basePred.permuted(order);
    this.modelPred = o.modelPred.permuted(order);
    this.baseTop = o.baseTop.permuted(order);
    this.modelTop = o.modelTop.permuted(order);
    this.baseNearTie = o.baseNearTie.permuted(order);
    this.baseConf = o.baseConf.permuted(order);
    this.modelConf = o.modelConf.permuted(order);
  }

  private String name(int c) {
    return c >= 0 && c < classNames.size() ? classNames.get(c) : Integer.toString(c);
  }

  @Override
  public void add(Observation<ClassPredictions> o) {
    ClassPredictions b = o.baseline();
    ClassPredictions m = o.model();
    classes = Math.max(classes, Math.max(b.classes(), m.classes()));
    if (classes > MAX_CLASSES) {
      throw new InvalidInputException(
          o.dataset(),
          "the model scores " + classes + " classes; classification evaluates up to " + MAX_CLASSES,
          "evaluate such a model with the raw task");
    }
    topK = Math.max(topK, Math.min(k, classes));
    for (int r : o.rows()) {
      long y = o.label(r);
      if (y >= classes) {
        throw new InvalidInputException(
            o.dataset(),
            "sample "
                + (o.batch().offset() + r)
                + " has label "
                + y
                + " but the model scores "
                + classes
                + " classes",
            "pair the data with labels that match the model's outputs");
      }
      int bp = b.top1()[r];
      int mp = m.top1()[r];
      flips.add(bp, mp);
      keys.add(o.key(r));
      label.add((int) y);
      basePred.add(bp);
      modelPred.add(mp);
      baseConf.add(b.confidence()[r]);
      modelConf.add(m.confidence()[r]);
      baseTop.add(y >= 0 && b.inTopK(r, y));
      modelTop.add(y >= 0 && m.inTopK(r, y));
      baseNearTie.add(b.margin()[r] < lowMargin);
      if (y >= 0) {
        model.add((int) y, mp);
        baseline.add((int) y, bp);
        if (bp == y && mp != y) {
          baselineOnlyCorrect++;
        } else if (bp != y && mp == y) {
          modelOnlyCorrect++;
        }
      }
    }
  }

  @Override
  public void merge(PairedMetrics<ClassPredictions> other) {
    ClassificationMetrics o = (ClassificationMetrics) other;
    model.merge(o.model);
    baseline.merge(o.baseline);
    flips.merge(o.flips);
    baselineOnlyCorrect += o.baselineOnlyCorrect;
    modelOnlyCorrect += o.modelOnlyCorrect;
    classes = Math.max(classes, o.classes);
    topK = Math.max(topK, o.topK);
    keys.addAll(o.keys);
    label.addAll(o.label);
    basePred.addAll(o.basePred);
    modelPred.addAll(o.modelPred);
    baseTop.addAll(o.baseTop);
    modelTop.addAll(o.modelTop);
    baseNearTie.addAll(o.baseNearTie);
    baseConf.addAll(o.baseConf);
    modelConf.addAll(o.modelConf);
  }

  @Override
  public long samples() {
    return label.size();
  }

  private boolean labeled() {
    return model.total() > 0;
  }

  @Override
  public TaskResult result(Bootstrap bootstrap) {
    int[] order = bootstrap.keyed() ? keys.keyOrder() : null;
    return order == null
        ? resultInOrder(bootstrap)
        : new ClassificationMetrics(this, order).resultInOrder(bootstrap);
  }

  /**
   * The model's reliability diagram, summed over the rows in their order (a sum of floats depends
   * on the order it is taken in).
   */
  private CalibrationError modelCalibration() {
    CalibrationError e = new CalibrationError();
    for (int i = 0; i < label.size(); i++) {
      int y = label.get(i);
      if (y >= 0) {
        e.add(modelConf.get(i), modelPred.get(i) == y);
      }
    }
    return e;
  }

  private TaskResult resultInOrder(Bootstrap bootstrap) {
    var metrics = bootstrap.estimate(new Table());
    Map<String, Double> figures = new LinkedHashMap<>();
    figures.put("labeled_samples", (double) model.total());
    figures.put("flipped_samples", (double) (flips.total() - flips.agreeing()));
    figures.put("low_margin_threshold", lowMargin);
    ClassificationDetail detail;
    List<String> classNames = new ArrayList<>();
    for (int c = 0; c < classes; c++) {
      classNames.add(name(c));
    }
    List<ClassificationDetail.Flip> flipList = new ArrayList<>();
    for (int from = 0; from < flips.classes(); from++) {
      for (int to = 0; to < flips.classes(); to++) {
        long n = flips.count(from, to);
        if (from != to && n > 0) {
          flipList.add(new ClassificationDetail.Flip(name(from), name(to), n));
        }
      }
    }
    flipList.sort(Comparator.comparingLong(ClassificationDetail.Flip::count).reversed());
    if (labeled()) {
      List<ClassScores> perClass = new ArrayList<>();
      List<ClassScores> mine = model.perClass(this::name);
      List<ClassScores> theirs = baseline.perClass(this::name);
      for (int c = 0; c < mine.size(); c++) {
        double baseF1 = c < theirs.size() ? theirs.get(c).f1() : 0;
        perClass.add(mine.get(c).withF1DeltaOf(baseF1));
      }
      ClassAverages avg = model.averages();
      figures.put("macro_precision", avg.macroPrecision());
      figures.put("macro_recall", avg.macroRecall());
      figures.put("weighted_f1", avg.weightedF1());
      figures.put("micro_f1", avg.microF1());
      McNemarTest mcnemar = McNemar.test(baselineOnlyCorrect, modelOnlyCorrect);
      figures.put("mcnemar_p", mcnemar.pValue());
      detail =
          new ClassificationDetail(
              classNames,
              perClass,
              avg,
              square(model),
              delta(square(model), square(baseline)),
              flips.total() - flips.agreeing(),
              List.copyOf(flipList.subList(0, Math.min(50, flipList.size()))),
              mcnemar,
              modelCalibration().bins());
    } else {
      detail =
          new ClassificationDetail(
              classNames,
              List.of(),
              null,
              null,
              null,
              flips.total() - flips.agreeing(),
              List.copyOf(flipList.subList(0, Math.min(50, flipList.size()))),
              null,
              List.of());
    }
    return new TaskResult(samples(), metrics, figures, detail);
  }

  private long[][] square(ConfusionMatrix m) {
    long[][] out = new long[classes][classes];
    for (int a = 0; a < classes; a++) {
      for (int p = 0; p < classes; p++) {
        out[a][p] = m.count(a, p);
      }
    }
    return out;
  }

  private static long[][] delta(long[][] a, long[][] b) {
    long[][] out = new long[a.length][];
    for (int i = 0; i < a.length; i++) {
      out[i] = new long[a[i].length];
      for (int j = 0; j < a[i].length; j++) {
        out[i][j] = a[i][j] - b[i][j];
      }
    }
    return out;
  }

  /**
   * The per-sample columns as a bootstrap table. Rows with the same label, predictions and top-k
   * hits are one type; a resample's counts, accuracy, F1 and flips follow from how often it drew
   * each type, so the work per draw is one weighted count plus the two ECE gaps (correct −
   * confidence, summed per confidence bin), in one sequential pass.
   */
  private final class Table implements SampleTable {
    private final boolean labeled = labeled();
    private final boolean withTopK = topK > 1 && topK < classes;
    private final List<MetricSpec> specs = specs();
    private final int[] type = new int[label.size()];
    private final byte[] baseBin = new byte[label.size()];
    private final byte[] modelBin = new byte[label.size()];
    private final float[] baseGap = new float[label.size()];
    private final float[] modelGap = new float[label.size()];
    private final long[] typeCode;
    private final long[] typeCount;
    private final long[] baseTp = new long[classes];
    private final long[] basePredicted = new long[classes];
    private final long[] modelTp = new long[classes];
    private final long[] modelPredicted = new long[classes];
    private final long[] actual = new long[classes];
    private final double[] baseBinGap = new double[CalibrationError.BINS];
    private final double[] modelBinGap = new double[CalibrationError.BINS];

    Table() {
      Map<Long, Integer> ids = new HashMap<>();
      List<Long> codes = new ArrayList<>();
      for (int i = 0; i < type.length; i++) {
        int y = label.get(i);
        int bp = basePred.get(i);
        int mp = modelPred.get(i);
        long code =
            (long) (y + 1)
                | (long) bp << 16
                | (long) mp << 32
                | (baseTop.get(i) ? 1L << 48 : 0)
                | (modelTop.get(i) ? 1L << 49 : 0)
                | (baseNearTie.get(i) ? 1L << 50 : 0);
        type[i] =
            ids.computeIfAbsent(
                code,
                c -> {
                  codes.add(c);
                  return codes.size() - 1;
                });
        float bc = baseConf.get(i);
        float mc = modelConf.get(i);
        baseBin[i] = (byte) CalibrationError.bin(bc);
        modelBin[i] = (byte) CalibrationError.bin(mc);
        baseGap[i] = (bp == y ? 1 : 0) - bc;
        modelGap[i] = (mp == y ? 1 : 0) - mc;
      }
      typeCode = codes.stream().mapToLong(Long::longValue).toArray();
      typeCount = new long[typeCode.length];
    }

    private List<MetricSpec> specs() {
      List<MetricSpec> s = new ArrayList<>();
      if (labeled) {
        s.add(MetricSpec.absolute("accuracy", true));
        s.add(MetricSpec.absolute("macro_f1", true));
        if (withTopK) {
          s.add(MetricSpec.absolute("top" + topK + "_accuracy", true));
        }
        s.add(MetricSpec.absolute("ece", false));
      }
      s.add(MetricSpec.againstBaseline("flip_rate", false));
      s.add(MetricSpec.againstBaseline("low_margin_flip_rate", false));
      s.add(MetricSpec.againstBaseline("confident_flip_rate", false));
      return s;
    }

    @Override
    public int size() {
      return type.length;
    }

    @Override
    public long key(int row) {
      return keys.get(row);
    }

    @Override
    public List<MetricSpec> metrics() {
      return specs;
    }

    @Override
    public void evaluate(int[] w, double[] m, double[] b) {
      Arrays.fill(typeCount, 0);
      Arrays.fill(baseBinGap, 0);
      Arrays.fill(modelBinGap, 0);
      for (int i = 0; i < type.length; i++) {
        int wi = w[i];
        typeCount[type[i]] += wi;
        baseBinGap[baseBin[i]] += wi * baseGap[i];
        modelBinGap[modelBin[i]] += wi * modelGap[i];
      }
      Arrays.fill(baseTp, 0);
      Arrays.fill(basePredicted, 0);
      Arrays.fill(modelTp, 0);
      Arrays.fill(modelPredicted, 0);
      Arrays.fill(actual, 0);
      long n = 0;
      long labeledN = 0;
      long flipped = 0;
      long flippedNearTie = 0;
      long baseTopHits = 0;
      long modelTopHits = 0;
      for (int t = 0; t < typeCode.length; t++) {
        long c = typeCount[t];
        if (c == 0) {
          continue;
        }
        long code = typeCode[t];
        int y = (int) (code & 0xffff) - 1;
        int bp = (int) (code >>> 16) & 0xffff;
        int mp = (int) (code >>> 32) & 0xffff;
        n += c;
        if (bp != mp) {
          flipped += c;
          flippedNearTie += c * ((code >>> 50) & 1);
        }
        if (y < 0) {
          continue;
        }
        labeledN += c;
        actual[y] += c;
        basePredicted[bp] += c;
        modelPredicted[mp] += c;
        if (bp == y) {
          baseTp[y] += c;
        }
        if (mp == y) {
          modelTp[y] += c;
        }
        baseTopHits += c * ((code >>> 48) & 1);
        modelTopHits += c * ((code >>> 49) & 1);
      }
      int i = 0;
      if (labeled) {
        double ln = labeledN == 0 ? Double.NaN : labeledN;
        m[i] = sum(modelTp) / ln;
        b[i++] = sum(baseTp) / ln;
        m[i] = ConfusionMatrix.macroF1(modelTp, modelPredicted, actual);
        b[i++] = ConfusionMatrix.macroF1(baseTp, basePredicted, actual);
        if (withTopK) {
          m[i] = modelTopHits / ln;
          b[i++] = baseTopHits / ln;
        }
        m[i] = absSum(modelBinGap) / ln;
        b[i++] = absSum(baseBinGap) / ln;
      }
      double all = n == 0 ? Double.NaN : n;
      m[i] = flipped / all;
      b[i++] = 0;
      m[i] = flippedNearTie / all;
      b[i++] = 0;
      m[i] = (flipped - flippedNearTie) / all;
      b[i] = 0;
    }

    private static double sum(long[] v) {
      long s = 0;
      for (long x : v) {
        s += x;
      }
      return s;
    }

    private static double absSum(double[] gaps) {
      double s = 0;
      for (double g : gaps) {
        s += Math.abs(g);
      }
      return s;
    }
  }
}

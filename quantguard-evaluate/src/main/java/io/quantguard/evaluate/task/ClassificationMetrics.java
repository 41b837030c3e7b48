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
import io.quantguard.report.MetricEstimate;
import io.quantguard.report.MetricSpec;
import io.quantguard.report.TaskResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Classification metrics of one model against the labels and the baseline: confusion matrices of
 * model and baseline, the flip matrix (baseline class → model class), McNemar's discordant counts,
 * and the {@link ClassCounts} behind the headline metrics. Samples without a label (-1) count for
 * flips only.
 *
 * <p>Flips split by the baseline's margin (top-1 minus top-2 probability): {@code
 * low_margin_flip_rate} counts the flips where that margin is below the threshold (the baseline
 * nearly tied, so any noise may flip it), {@code confident_flip_rate} the others, where the
 * baseline was sure and the candidate still disagrees. The two add up to {@code flip_rate}.
 *
 * <p>The bootstrap: under Poisson resampling every replicate's {@link ClassCounts} are summed as
 * the rows arrive (a few thousand at a time, {@link PendingRows}), each row weighted by its own
 * Poisson draw, so the state is a fixed size (about 1.3 kB per replicate for 10 classes) however
 * many rows there are, and whole numbers merge to the same state in any order. Multinomial
 * resampling draws n rows from the whole data set, so it keeps a few bytes per row (key, label,
 * both predictions, top-k hits, near tie, confidences) and counts the replicates when the result is
 * asked for. With no resamples nothing per row is kept.
 *
 * <p>Serializable, so that accumulators filled on other machines merge where the report is made.
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
  private final ClassCounts point;
  private final @Nullable Bootstrap drawn;
  private final ClassCounts @Nullable [] replicates;
  private final boolean rowsKept;
  private transient @Nullable PendingRows pending;
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
    this(k, lowMargin, classNames, null);
  }

  /**
   * @param bootstrap the bootstrap {@link #result} will be asked for, or null for any: under
   *     Poisson resampling the replicates are summed as rows arrive and no row is kept; with no
   *     resamples no row is kept either
   */
  ClassificationMetrics(
      int k, double lowMargin, List<String> classNames, @Nullable Bootstrap bootstrap) {
    this.k = k;
    this.lowMargin = lowMargin;
    this.classNames = List.copyOf(classNames);
    this.model = new ConfusionMatrix();
    this.baseline = new ConfusionMatrix();
    this.flips = new ConfusionMatrix();
    this.point = new ClassCounts();
    this.drawn = bootstrap;
    ClassCounts[] reps = null;
    if (bootstrap != null && Replicates.streamed(bootstrap)) {
      reps = new ClassCounts[bootstrap.resamples()];
      Arrays.setAll(reps, r -> new ClassCounts());
    }
    this.replicates = reps;
    this.rowsKept = Replicates.rowsKept(bootstrap);
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
    this.point = o.point;
    this.drawn = o.drawn;
    this.replicates = o.replicates;
    this.rowsKept = o.rowsKept;
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
    int before = classes;
    classes = Math.max(classes, Math.max(b.classes(), m.classes()));
    if (classes > MAX_CLASSES) {
      throw new InvalidInputException(
          o.dataset(),
          "the model scores " + classes + " classes; classification evaluates up to " + MAX_CLASSES,
          "evaluate such a model with the raw task");
    }
    topK = Math.max(topK, Math.min(k, classes));
    if (classes > before) {
      // Sized for every class the model scores up front, so the state's size follows the classes,
      // not which of them the rows so far happened to hit.
      model.ensure(classes);
      baseline.ensure(classes);
      flips.ensure(classes);
      point.fit(classes);
      if (replicates != null) {
        for (ClassCounts c : replicates) {
          c.fit(classes);
        }
      }
    }
    int[] rows = o.rows();
    long[] codes = new long[rows.length];
    for (int i = 0; i < rows.length; i++) {
      int r = rows[i];
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
      boolean bTop = y >= 0 && b.inTopK(r, y);
      boolean mTop = y >= 0 && m.inTopK(r, y);
      boolean nearTie = b.margin()[r] < lowMargin;
      codes[i] = code((int) y, bp, mp, bTop, mTop, nearTie);
      flips.add(bp, mp);
      if (y >= 0) {
        model.add((int) y, mp);
        baseline.add((int) y, bp);
        if (bp == y && mp != y) {
          baselineOnlyCorrect++;
        } else if (bp != y && mp == y) {
          modelOnlyCorrect++;
        }
      }
      if (rowsKept) {
        keys.add(o.key(r));
        label.add((int) y);
        basePred.add(bp);
        modelPred.add(mp);
        baseConf.add(b.confidence()[r]);
        modelConf.add(m.confidence()[r]);
        baseTop.add(bTop);
        modelTop.add(mTop);
        baseNearTie.add(nearTie);
      }
    }
    count(point, o, codes);
    ClassCounts[] reps = replicates;
    Bootstrap bs = drawn;
    if (reps != null && bs != null) {
      float[] bc = b.confidence();
      float[] mc = m.confidence();
      PendingRows p = pending;
      if (p == null) {
        p = new PendingRows();
        pending = p;
      }
      for (int i = 0; i < rows.length; i++) {
        int r = rows[i];
        p.add(bs.rowHash(o.key(r)), codes[i], bc[r], mc[r]);
        if (p.full()) {
          p.flushInto(reps, bs);
        }
      }
    }
  }

  /** Counts the rows still pending into the replicates. */
  private void flush() {
    PendingRows p = pending;
    ClassCounts[] reps = replicates;
    Bootstrap bs = drawn;
    if (p != null && reps != null && bs != null) {
      p.flushInto(reps, bs);
    }
  }

  /** The state is written with every pending row counted. */
  private void writeObject(java.io.ObjectOutputStream out) throws java.io.IOException {
    flush();
    out.defaultWriteObject();
  }

  /** A row's type: see {@link ClassCounts#addType}. */
  private static long code(int y, int bp, int mp, boolean bTop, boolean mTop, boolean nearTie) {
    return (long) (y + 1)
        | (long) bp << 16
        | (long) mp << 32
        | (bTop ? 1L << 48 : 0)
        | (mTop ? 1L << 49 : 0)
        | (nearTie ? 1L << 50 : 0);
  }

  /** Adds the observation's rows to {@code c} once each. */
  private static void count(ClassCounts c, Observation<ClassPredictions> o, long[] codes) {
    float[] bc = o.baseline().confidence();
    float[] mc = o.model().confidence();
    int[] rows = o.rows();
    for (int i = 0; i < rows.length; i++) {
      long code = codes[i];
      c.addType(code, 1);
      int y = (int) (code & 0xffff) - 1;
      if (y >= 0) {
        int r = rows[i];
        c.addConfidence(
            CalibrationError.bin(bc[r]),
            ClassCounts.fixed(bc[r]),
            ((code >>> 16) & 0xffff) == y,
            CalibrationError.bin(mc[r]),
            ClassCounts.fixed(mc[r]),
            ((code >>> 32) & 0xffff) == y,
            1);
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
    point.merge(o.point);
    flush();
    o.flush();
    Replicates.merge(replicates, rowsKept, o.replicates, o.rowsKept, ClassCounts::merge);
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
    return flips.total();
  }

  private boolean labeled() {
    return model.total() > 0;
  }

  @Override
  public TaskResult result(Bootstrap bootstrap) {
    Bootstrap made = drawn;
    if (made != null
        && (made.resamples() != bootstrap.resamples()
            || made.seed() != bootstrap.seed()
            || made.resampling() != bootstrap.resampling())) {
      throw new IllegalArgumentException(
          "these metrics were drawn for " + made + ", not for " + bootstrap);
    }
    if (!rowsKept) {
      flush();
      return resultOf(streamedEstimates(bootstrap));
    }
    int[] order = bootstrap.keyed() ? keys.keyOrder() : null;
    ClassificationMetrics inOrder = order == null ? this : new ClassificationMetrics(this, order);
    return resultOf(bootstrap.estimate(inOrder.new Table()));
  }

  /** Whether the model scores more classes than top-k takes, so top-k accuracy is reported. */
  private boolean withTopK() {
    return topK > 1 && topK < classes;
  }

  private List<MetricSpec> specs() {
    List<MetricSpec> s = new ArrayList<>();
    if (labeled()) {
      s.add(MetricSpec.absolute("accuracy", true));
      s.add(MetricSpec.absolute("macro_f1", true));
      if (withTopK()) {
        s.add(MetricSpec.absolute("top" + topK + "_accuracy", true));
      }
      s.add(MetricSpec.absolute("ece", false));
    }
    s.add(MetricSpec.againstBaseline("flip_rate", false));
    s.add(MetricSpec.againstBaseline("low_margin_flip_rate", false));
    s.add(MetricSpec.againstBaseline("confident_flip_rate", false));
    return s;
  }

  /** The estimates from the counts summed as the rows arrived (no row kept). */
  private List<MetricEstimate> streamedEstimates(Bootstrap bootstrap) {
    List<MetricSpec> specs = specs();
    int k = specs.size();
    double[] pointModel = new double[k];
    double[] pointBase = new double[k];
    point.values(labeled(), withTopK(), classes, pointModel, pointBase);
    ClassCounts[] reps = replicates == null ? new ClassCounts[0] : replicates;
    double[][] m = new double[k][reps.length];
    double[][] b = new double[k][reps.length];
    double[] vm = new double[k];
    double[] vb = new double[k];
    for (int r = 0; r < reps.length; r++) {
      reps[r].values(labeled(), withTopK(), classes, vm, vb);
      for (int j = 0; j < k; j++) {
        m[j][r] = vm[j];
        b[j][r] = vb[j];
      }
    }
    return bootstrap.estimates(specs, pointModel, pointBase, m, b);
  }

  private TaskResult resultOf(List<MetricEstimate> metrics) {
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
              point.modelBins());
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
   * The kept rows as a bootstrap table. Rows with the same label, predictions and top-k hits are
   * one type; a resample's counts, accuracy, F1 and flips follow from how often it drew each type,
   * so the work per draw is one weighted count per row plus its confidences, in one sequential
   * pass, summed into {@link ClassCounts} as the streamed replicates are.
   */
  private final class Table implements SampleTable {
    private final boolean labeled = labeled();
    private final boolean withTopK = withTopK();
    private final List<MetricSpec> specs = specs();
    private final int[] type = new int[label.size()];
    private final byte[] baseBin = new byte[label.size()];
    private final byte[] modelBin = new byte[label.size()];
    private final long[] baseFixed = new long[label.size()];
    private final long[] modelFixed = new long[label.size()];
    private final long[] typeCode;
    private final long[] typeCount;
    private final ClassCounts counts = new ClassCounts();

    Table() {
      Map<Long, Integer> ids = new HashMap<>();
      List<Long> codes = new ArrayList<>();
      for (int i = 0; i < type.length; i++) {
        long code =
            code(
                label.get(i),
                basePred.get(i),
                modelPred.get(i),
                baseTop.get(i),
                modelTop.get(i),
                baseNearTie.get(i));
        type[i] =
            ids.computeIfAbsent(
                code,
                c -> {
                  codes.add(c);
                  return codes.size() - 1;
                });
        baseBin[i] = (byte) CalibrationError.bin(baseConf.get(i));
        modelBin[i] = (byte) CalibrationError.bin(modelConf.get(i));
        baseFixed[i] = ClassCounts.fixed(baseConf.get(i));
        modelFixed[i] = ClassCounts.fixed(modelConf.get(i));
      }
      typeCode = codes.stream().mapToLong(Long::longValue).toArray();
      typeCount = new long[typeCode.length];
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
      counts.clear();
      Arrays.fill(typeCount, 0);
      for (int i = 0; i < type.length; i++) {
        int wi = w[i];
        if (wi == 0) {
          continue;
        }
        typeCount[type[i]] += wi;
        int y = label.get(i);
        if (y >= 0) {
          counts.addConfidence(
              baseBin[i],
              baseFixed[i],
              basePred.get(i) == y,
              modelBin[i],
              modelFixed[i],
              modelPred.get(i) == y,
              wi);
        }
      }
      for (int t = 0; t < typeCode.length; t++) {
        if (typeCount[t] != 0) {
          counts.addType(typeCode[t], typeCount[t]);
        }
      }
      counts.values(labeled, withTopK, classes, m, b);
    }
  }
}

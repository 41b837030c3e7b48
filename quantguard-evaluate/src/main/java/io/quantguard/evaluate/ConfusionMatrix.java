package io.quantguard.evaluate;

import io.quantguard.report.ClassAverages;
import io.quantguard.report.ClassScores;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Counts of (actual class, predicted class) pairs: the mergeable sketch every classification metric
 * is derived from. It grows to the largest class seen, so its memory is C² counters whatever the
 * number of samples. The same structure with the baseline's prediction in place of the actual class
 * counts prediction flips (which class flips to which).
 *
 * <p>Per class c, with tp<sub>c</sub> correct predictions of c, p<sub>c</sub> predictions of c and
 * s<sub>c</sub> samples of c (its support): precision<sub>c</sub> = tp<sub>c</sub>/p<sub>c</sub>,
 * recall<sub>c</sub> = tp<sub>c</sub>/s<sub>c</sub>, F1<sub>c</sub> =
 * 2·tp<sub>c</sub>/(p<sub>c</sub> + s<sub>c</sub>), each 0 where its denominator is 0. Macro
 * averages are plain means over the classes that occur among actual or predicted classes; weighted
 * averages weight by support; micro precision, recall and F1 of single-label classification all
 * equal the accuracy Σtp/n. These are scikit-learn's definitions ({@code
 * precision_recall_fscore_support}, zero_division=0).
 */
public final class ConfusionMatrix implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  private long[] counts = new long[0];
  private int classes;

  public ConfusionMatrix() {}

  /** A matrix sized for {@code classes} classes up front (it still grows when needed). */
  public ConfusionMatrix(int classes) {
    ensure(classes);
  }

  public void add(int actual, int predicted) {
    add(actual, predicted, 1);
  }

  public void add(int actual, int predicted, long count) {
    if (actual < 0 || predicted < 0) {
      throw new IllegalArgumentException("negative class " + Math.min(actual, predicted));
    }
    ensure(Math.max(actual, predicted) + 1);
    counts[actual * classes + predicted] += count;
  }

  public void merge(ConfusionMatrix other) {
    ensure(other.classes);
    for (int a = 0; a < other.classes; a++) {
      for (int p = 0; p < other.classes; p++) {
        counts[a * classes + p] += other.counts[a * other.classes + p];
      }
    }
  }

  /** Number of classes (rows and columns). */
  public int classes() {
    return classes;
  }

  public long count(int actual, int predicted) {
    return actual < classes && predicted < classes ? counts[actual * classes + predicted] : 0;
  }

  public long total() {
    long n = 0;
    for (long c : counts) {
      n += c;
    }
    return n;
  }

  /** Σ of the diagonal. */
  public long agreeing() {
    long n = 0;
    for (int c = 0; c < classes; c++) {
      n += counts[c * classes + c];
    }
    return n;
  }

  public double accuracy() {
    long n = total();
    return n == 0 ? Double.NaN : (double) agreeing() / n;
  }

  public long actual(int c) {
    long n = 0;
    for (int p = 0; p < classes; p++) {
      n += counts[c * classes + p];
    }
    return n;
  }

  public long predicted(int c) {
    long n = 0;
    for (int a = 0; a < classes; a++) {
      n += counts[a * classes + c];
    }
    return n;
  }

  /** The counts as rows (actual) × columns (predicted). */
  public long[][] toArray() {
    long[][] out = new long[classes][classes];
    for (int a = 0; a < classes; a++) {
      System.arraycopy(counts, a * classes, out[a], 0, classes);
    }
    return out;
  }

  /** Per-class precision, recall, F1 and support, for every class up to {@link #classes}. */
  public List<ClassScores> perClass(IntFunction<String> names) {
    List<ClassScores> out = new ArrayList<>();
    for (int c = 0; c < classes; c++) {
      long tp = count(c, c);
      long pc = predicted(c);
      long sc = actual(c);
      out.add(
          new ClassScores(
              c, names.apply(c), ratio(tp, pc), ratio(tp, sc), f1(tp, pc, sc), sc, null));
    }
    return out;
  }

  /** Macro, micro and support-weighted averages of precision, recall and F1. */
  public ClassAverages averages() {
    double mp = 0;
    double mr = 0;
    double mf = 0;
    double wp = 0;
    double wr = 0;
    double wf = 0;
    int present = 0;
    long support = 0;
    for (int c = 0; c < classes; c++) {
      long tp = count(c, c);
      long pc = predicted(c);
      long sc = actual(c);
      if (pc == 0 && sc == 0) {
        continue;
      }
      present++;
      support += sc;
      mp += ratio(tp, pc);
      mr += ratio(tp, sc);
      mf += f1(tp, pc, sc);
      wp += sc * ratio(tp, pc);
      wr += sc * ratio(tp, sc);
      wf += sc * f1(tp, pc, sc);
    }
    double micro = accuracy();
    return new ClassAverages(
        present == 0 ? Double.NaN : mp / present,
        present == 0 ? Double.NaN : mr / present,
        present == 0 ? Double.NaN : mf / present,
        micro,
        micro,
        micro,
        support == 0 ? Double.NaN : wp / support,
        support == 0 ? Double.NaN : wr / support,
        support == 0 ? Double.NaN : wf / support);
  }

  /** F1 = 2·tp / (predicted + actual), 0 when both are 0. */
  public static double f1(long tp, long predicted, long actual) {
    long d = predicted + actual;
    return d == 0 ? 0 : 2.0 * tp / d;
  }

  /**
   * Macro-F1 from per-class counts (tp, predicted, actual), over classes with predicted + actual >
   * 0; what bootstrap replicates call without building a matrix.
   */
  public static double macroF1(long[] tp, long[] predicted, long[] actual) {
    double sum = 0;
    int present = 0;
    for (int c = 0; c < tp.length; c++) {
      if (predicted[c] + actual[c] > 0) {
        present++;
        sum += f1(tp[c], predicted[c], actual[c]);
      }
    }
    return present == 0 ? Double.NaN : sum / present;
  }

  private static double ratio(long a, long b) {
    return b == 0 ? 0 : (double) a / b;
  }

  /** Grows the matrix to at least {@code n} classes. */
  public void ensure(int n) {
    if (n <= classes) {
      return;
    }
    long[] grown = new long[n * n];
    for (int a = 0; a < classes; a++) {
      System.arraycopy(counts, a * classes, grown, a * n, classes);
    }
    counts = grown;
    classes = n;
  }
}

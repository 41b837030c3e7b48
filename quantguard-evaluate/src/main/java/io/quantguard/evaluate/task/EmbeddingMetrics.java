package io.quantguard.evaluate.task;

import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.Observation;
import io.quantguard.evaluate.PairedMetrics;
import io.quantguard.evaluate.SampleTable;
import io.quantguard.evaluate.TensorAgreement;
import io.quantguard.report.MetricSpec;
import io.quantguard.report.TaskResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Agreement of a model's embeddings with the baseline's: per sample the cosine, the signal energy
 * ‖b‖² and the noise energy ‖b − m‖² (see {@link TensorAgreement}). Headlines {@code cosine_mean},
 * {@code sqnr_db} and the cosine's low tail ({@link CosineTail}), where damage hides behind a good
 * mean; figures the cosine's minimum and median ({@code cosine_p01} and {@code cosine_p05} repeat
 * the tail's 1st and 5th percentiles under the names reports had before the tail had intervals).
 */
final class EmbeddingMetrics implements PairedMetrics<Embeddings>, java.io.Serializable {
  private static final long serialVersionUID = 1L;

  private final KeyColumn keys;
  private final FloatColumn cosine;
  private final FloatColumn signal;
  private final FloatColumn noise;
  private double maxAbs;
  private int dim;

  EmbeddingMetrics() {
    keys = new KeyColumn();
    cosine = new FloatColumn();
    signal = new FloatColumn();
    noise = new FloatColumn();
  }

  /** The same metrics with the rows in the given order. */
  private EmbeddingMetrics(EmbeddingMetrics o, int[] order) {
    keys = o.keys.permuted(order);
    cosine = o.cosine.permuted(order);
    signal = o.signal.permuted(order);
    noise = o.noise.permuted(order);
    maxAbs = o.maxAbs;
    dim = o.dim;
  }

  @Override
  public void add(Observation<Embeddings> o) {
    Embeddings b = o.baseline();
    Embeddings m = o.model();
    dim = b.dim();
    for (int r : o.rows()) {
      TensorAgreement.Sums s = TensorAgreement.sums(b.vectors(), m.vectors(), b.at(r), b.dim());
      keys.add(o.key(r));
      cosine.add(s.cosine());
      signal.add(s.xx());
      noise.add(s.noise());
      maxAbs = Math.max(maxAbs, s.maxAbs());
    }
  }

  @Override
  public void merge(PairedMetrics<Embeddings> other) {
    EmbeddingMetrics o = (EmbeddingMetrics) other;
    keys.addAll(o.keys);
    cosine.addAll(o.cosine);
    signal.addAll(o.signal);
    noise.addAll(o.noise);
    maxAbs = Math.max(maxAbs, o.maxAbs);
    dim = Math.max(dim, o.dim);
  }

  @Override
  public long samples() {
    return cosine.size();
  }

  @Override
  public TaskResult result(Bootstrap bootstrap) {
    int[] order = bootstrap.keyed() ? keys.keyOrder() : null;
    return order == null
        ? resultInOrder(bootstrap)
        : new EmbeddingMetrics(this, order).resultInOrder(bootstrap);
  }

  private TaskResult resultInOrder(Bootstrap bootstrap) {
    var metrics =
        bootstrap.estimate(withTail(agreementTable(cosine, signal, noise, "cosine_mean")));
    Map<String, Double> figures = new LinkedHashMap<>();
    figures.put("cosine_min", cosine.percentile(0));
    figures.put("cosine_p01", cosine.percentile(0.01));
    figures.put("cosine_p05", cosine.percentile(0.05));
    figures.put("cosine_p50", cosine.percentile(0.5));
    figures.put("max_abs_error", maxAbs);
    figures.put("dim", (double) dim);
    return new TaskResult(samples(), metrics, figures, null);
  }

  /** The agreement table followed by the cosine's tail, on the same resampled rows. */
  private SampleTable withTail(SampleTable agreement) {
    CosineTail tail = new CosineTail(cosine);
    List<MetricSpec> specs = new ArrayList<>(agreement.metrics());
    int at = specs.size();
    specs.addAll(CosineTail.metrics());
    return new SampleTable() {
      @Override
      public int size() {
        return agreement.size();
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
      public void evaluate(int[] w, double[] model, double[] baseline) {
        agreement.evaluate(w, model, baseline);
        tail.evaluate(w, model, at);
      }
    };
  }

  /** Mean cosine and pooled SQNR over resampled rows; shared with the raw-tensor task. */
  static SampleTable agreementTable(
      FloatColumn cosine, FloatColumn signal, FloatColumn noise, String cosineName) {
    return new SampleTable() {
      @Override
      public int size() {
        return cosine.size();
      }

      @Override
      public List<MetricSpec> metrics() {
        return List.of(
            MetricSpec.againstBaseline(cosineName, true),
            MetricSpec.againstBaseline("sqnr_db", true));
      }

      @Override
      public void evaluate(int[] w, double[] model, double[] baseline) {
        long n = 0;
        double cos = 0;
        double sig = 0;
        double noi = 0;
        for (int i = 0; i < w.length; i++) {
          int wi = w[i];
          n += wi;
          cos += wi * cosine.get(i);
          sig += wi * signal.get(i);
          noi += wi * noise.get(i);
        }
        model[0] = n == 0 ? Double.NaN : cos / n;
        model[1] = TensorAgreement.sqnrDb(sig, noi);
      }
    };
  }
}

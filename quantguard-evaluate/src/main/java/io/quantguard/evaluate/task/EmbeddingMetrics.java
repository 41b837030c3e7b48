package io.quantguard.evaluate.task;

import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.Observation;
import io.quantguard.evaluate.PairedMetrics;
import io.quantguard.evaluate.SampleTable;
import io.quantguard.evaluate.TensorAgreement;
import io.quantguard.report.MetricEstimate;
import io.quantguard.report.MetricSpec;
import io.quantguard.report.TaskResult;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Agreement of a model's embeddings with the baseline's: per sample the cosine, the signal energy
 * ‖b‖² and the noise energy ‖b − m‖² (see {@link TensorAgreement}), each kept as a float. Headlines
 * {@code cosine_mean}, {@code sqnr_db} and the cosine's low tail ({@link AgreementCounts}), where
 * damage hides behind a good mean; figures the cosine's exact minimum and its median ({@code
 * cosine_p01} and {@code cosine_p05} repeat the tail's 1st and 5th percentiles under the names
 * reports had before the tail had intervals).
 *
 * <p>Every figure and point estimate comes from one {@link AgreementCounts} of all rows, and every
 * bootstrap replicate from one {@link AgreementCounts} of its weighted rows, locally and on Spark
 * alike. Under Poisson resampling each replicate's counts are summed as the rows arrive, so the
 * state has a fixed bound however many rows there are (a few kB per replicate) and merges to the
 * same bits in any order. Multinomial resampling draws n rows from the whole data set, so it keeps
 * 16 bytes per row (key, cosine, signal, noise) and fills each replicate's counts when the result
 * is asked for. With no resamples nothing per row is kept.
 */
final class EmbeddingMetrics implements PairedMetrics<Embeddings>, java.io.Serializable {
  private static final long serialVersionUID = 1L;

  private final @Nullable Bootstrap drawn;
  private final AgreementCounts point = new AgreementCounts();
  private final AgreementCounts @Nullable [] replicates;
  private final boolean rowsKept;
  private final KeyColumn keys = new KeyColumn();
  private final FloatColumn cosine = new FloatColumn();
  private final FloatColumn signal = new FloatColumn();
  private final FloatColumn noise = new FloatColumn();
  private double maxAbs;
  private int dim;

  /**
   * @param bootstrap the bootstrap {@link #result} will be asked for, or null for any: under
   *     Poisson resampling the replicates are summed as rows arrive and no row is kept; with no
   *     resamples no row is kept either
   */
  EmbeddingMetrics(@Nullable Bootstrap bootstrap) {
    this.drawn = bootstrap;
    AgreementCounts[] reps = null;
    if (bootstrap != null && Replicates.streamed(bootstrap)) {
      reps = new AgreementCounts[bootstrap.resamples()];
      Arrays.setAll(reps, r -> new AgreementCounts());
    }
    this.replicates = reps;
    this.rowsKept = Replicates.rowsKept(bootstrap);
  }

  @Override
  public void add(Observation<Embeddings> o) {
    Embeddings b = o.baseline();
    Embeddings m = o.model();
    dim = b.dim();
    int[] rows = o.rows();
    float[] cos = new float[rows.length];
    float[] sig = new float[rows.length];
    float[] noi = new float[rows.length];
    for (int i = 0; i < rows.length; i++) {
      int r = rows[i];
      TensorAgreement.Sums s = TensorAgreement.sums(b.vectors(), m.vectors(), b.at(r), b.dim());
      cos[i] = (float) s.cosine();
      sig[i] = (float) s.xx();
      noi[i] = (float) s.noise();
      maxAbs = Math.max(maxAbs, s.maxAbs());
      point.add(cos[i], sig[i], noi[i], 1);
      if (rowsKept) {
        keys.add(o.key(r));
        cosine.add(cos[i]);
        signal.add(sig[i]);
        noise.add(noi[i]);
      }
    }
    AgreementCounts[] reps = replicates;
    Bootstrap bs = drawn;
    if (reps != null && bs != null) {
      long[] hash = new long[rows.length];
      for (int i = 0; i < rows.length; i++) {
        hash[i] = bs.rowHash(o.key(rows[i]));
      }
      for (int r = 0; r < reps.length; r++) {
        AgreementCounts c = reps[r];
        for (int i = 0; i < rows.length; i++) {
          int w = bs.poissonWeight(hash[i], r);
          if (w != 0) {
            c.add(cos[i], sig[i], noi[i], w);
          }
        }
      }
    }
  }

  @Override
  public void merge(PairedMetrics<Embeddings> other) {
    EmbeddingMetrics o = (EmbeddingMetrics) other;
    Replicates.merge(replicates, rowsKept, o.replicates, o.rowsKept, AgreementCounts::merge);
    point.merge(o.point);
    keys.addAll(o.keys);
    cosine.addAll(o.cosine);
    signal.addAll(o.signal);
    noise.addAll(o.noise);
    maxAbs = Math.max(maxAbs, o.maxAbs);
    dim = Math.max(dim, o.dim);
  }

  @Override
  public long samples() {
    return point.rows();
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
    List<MetricEstimate> metrics =
        rowsKept ? bootstrap.estimate(new Table()) : streamedEstimates(bootstrap);
    Map<String, Double> figures = new LinkedHashMap<>();
    figures.put("cosine_min", point.lowest());
    figures.put("cosine_p01", point.percentile(0.01));
    figures.put("cosine_p05", point.percentile(0.05));
    figures.put("cosine_p50", point.percentile(0.5));
    figures.put("max_abs_error", maxAbs);
    figures.put("dim", (double) dim);
    return new TaskResult(samples(), metrics, figures, null);
  }

  /** The estimates from the counts summed as the rows arrived (no row kept). */
  private List<MetricEstimate> streamedEstimates(Bootstrap bootstrap) {
    List<MetricSpec> specs = AgreementCounts.metrics();
    int k = specs.size();
    double[] pointValues = new double[k];
    point.values(pointValues);
    AgreementCounts[] reps = replicates == null ? new AgreementCounts[0] : replicates;
    double[][] m = new double[k][reps.length];
    double[] v = new double[k];
    for (int r = 0; r < reps.length; r++) {
      reps[r].values(v);
      for (int j = 0; j < k; j++) {
        m[j][r] = v[j];
      }
    }
    // Every metric compares with the baseline itself: the baseline's values are not read.
    return bootstrap.estimates(specs, pointValues, pointValues, m, m);
  }

  /** The kept rows as a bootstrap table: each weighting's {@link AgreementCounts}. */
  private final class Table implements SampleTable {
    private final List<MetricSpec> specs = AgreementCounts.metrics();

    @Override
    public int size() {
      return cosine.size();
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
      AgreementCounts c = new AgreementCounts();
      for (int i = 0; i < w.length; i++) {
        if (w[i] != 0) {
          c.add(cosine.get(i), signal.get(i), noise.get(i), w[i]);
        }
      }
      c.values(model);
    }
  }
}

package io.quantguard.evaluate.task;

import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.Observation;
import io.quantguard.evaluate.PairedMetrics;
import io.quantguard.evaluate.RankingMetrics;
import io.quantguard.evaluate.SampleTable;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.report.MetricSpec;
import io.quantguard.report.TaskResult;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Retrieval quality of a model and of the baseline, each ranking the corpus it embedded itself, and
 * how much of the baseline's top k the model keeps (see {@link RankingMetrics}). Ranking needs
 * every corpus vector, so memory grows with the corpus (dim floats per document and model): this is
 * exact search, the reference any approximate index is judged against.
 */
final class RetrievalMetrics implements PairedMetrics<Embeddings> {
  private final String queriesName;
  private final String corpusName;
  private final int k;
  private final FloatColumn baseQueries = new FloatColumn();
  private final FloatColumn modelQueries = new FloatColumn();
  private final FloatColumn baseDocs = new FloatColumn();
  private final FloatColumn modelDocs = new FloatColumn();
  private int dim;

  RetrievalMetrics(String queriesName, String corpusName, int k) {
    this.queriesName = queriesName;
    this.corpusName = corpusName;
    this.k = k;
  }

  @Override
  public void add(Observation<Embeddings> o) {
    boolean query = o.dataset().equals(queriesName);
    if (!query && !o.dataset().equals(corpusName)) {
      return;
    }
    Embeddings b = o.baseline();
    Embeddings m = o.model();
    dim = b.dim();
    for (int r : o.rows()) {
      for (int d = 0; d < dim; d++) {
        (query ? baseQueries : baseDocs).add(b.vectors()[b.at(r) + d]);
        (query ? modelQueries : modelDocs).add(m.vectors()[m.at(r) + d]);
      }
    }
  }

  @Override
  public void merge(PairedMetrics<Embeddings> other) {
    RetrievalMetrics o = (RetrievalMetrics) other;
    baseQueries.addAll(o.baseQueries);
    modelQueries.addAll(o.modelQueries);
    baseDocs.addAll(o.baseDocs);
    modelDocs.addAll(o.modelDocs);
    dim = Math.max(dim, o.dim);
  }

  @Override
  public long samples() {
    return dim == 0 ? 0 : baseQueries.size() / dim;
  }

  @Override
  public TaskResult result(Bootstrap bootstrap) {
    int q = (int) samples();
    int d = dim == 0 ? 0 : baseDocs.size() / dim;
    if (q > d) {
      throw new InvalidInputException(
          "data '" + queriesName + "'",
          "has "
              + q
              + " queries but '"
              + corpusName
              + "' only "
              + d
              + " documents; query i's relevant document is document i",
          "give both data sets the same samples (the same offset and limit)");
    }
    FloatColumn baseRr = new FloatColumn();
    FloatColumn modelRr = new FloatColumn();
    FloatColumn baseNdcg = new FloatColumn();
    FloatColumn modelNdcg = new FloatColumn();
    FloatColumn overlap = new FloatColumn();
    float[] baseScores = new float[d];
    float[] modelScores = new float[d];
    for (int i = 0; i < q; i++) {
      scores(baseQueries, i, baseDocs, baseScores);
      scores(modelQueries, i, modelDocs, modelScores);
      int rb = RankingMetrics.rank(baseScores, i);
      int rm = RankingMetrics.rank(modelScores, i);
      baseRr.add(RankingMetrics.reciprocalRank(rb));
      modelRr.add(RankingMetrics.reciprocalRank(rm));
      baseNdcg.add(RankingMetrics.ndcgAtK(rb, k));
      modelNdcg.add(RankingMetrics.ndcgAtK(rm, k));
      overlap.add(
          RankingMetrics.overlap(
              RankingMetrics.topK(baseScores, k), RankingMetrics.topK(modelScores, k), k));
    }
    var metrics = bootstrap.estimate(new Table(baseRr, modelRr, baseNdcg, modelNdcg, overlap));
    Map<String, Double> figures = new LinkedHashMap<>();
    figures.put("queries", (double) q);
    figures.put("documents", (double) d);
    figures.put("k", (double) k);
    return new TaskResult(q, metrics, figures, null);
  }

  private void scores(FloatColumn queries, int i, FloatColumn docs, float[] out) {
    int qa = i * dim;
    for (int j = 0; j < out.length; j++) {
      int da = j * dim;
      double s = 0;
      for (int x = 0; x < dim; x++) {
        s += queries.get(qa + x) * docs.get(da + x);
      }
      out[j] = (float) s;
    }
  }

  private final class Table implements SampleTable {
    private final FloatColumn baseRr;
    private final FloatColumn modelRr;
    private final FloatColumn baseNdcg;
    private final FloatColumn modelNdcg;
    private final FloatColumn overlap;

    Table(
        FloatColumn baseRr,
        FloatColumn modelRr,
        FloatColumn baseNdcg,
        FloatColumn modelNdcg,
        FloatColumn overlap) {
      this.baseRr = baseRr;
      this.modelRr = modelRr;
      this.baseNdcg = baseNdcg;
      this.modelNdcg = modelNdcg;
      this.overlap = overlap;
    }

    @Override
    public int size() {
      return baseRr.size();
    }

    @Override
    public List<MetricSpec> metrics() {
      return List.of(
          MetricSpec.absolute("recall_at_" + k, true),
          MetricSpec.absolute("mrr", true),
          MetricSpec.absolute("ndcg_at_" + k, true),
          MetricSpec.againstBaseline("overlap_at_" + k, true));
    }

    @Override
    public void evaluate(int[] w, double[] model, double[] baseline) {
      long n = 0;
      double[] sums = new double[7];
      for (int i = 0; i < w.length; i++) {
        int wi = w[i];
        if (wi == 0) {
          continue;
        }
        n += wi;
        double bn = baseNdcg.get(i);
        double mn = modelNdcg.get(i);
        sums[0] += bn > 0 ? wi : 0; // nDCG@k > 0 exactly when the relevant document is in the top k
        sums[1] += mn > 0 ? wi : 0;
        sums[2] += wi * baseRr.get(i);
        sums[3] += wi * modelRr.get(i);
        sums[4] += wi * bn;
        sums[5] += wi * mn;
        sums[6] += wi * overlap.get(i);
      }
      double dn = n == 0 ? Double.NaN : n;
      baseline[0] = sums[0] / dn;
      model[0] = sums[1] / dn;
      baseline[1] = sums[2] / dn;
      model[1] = sums[3] / dn;
      baseline[2] = sums[4] / dn;
      model[2] = sums[5] / dn;
      model[3] = sums[6] / dn;
    }
  }
}

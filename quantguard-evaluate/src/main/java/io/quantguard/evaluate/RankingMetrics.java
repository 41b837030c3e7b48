package io.quantguard.evaluate;

import java.util.Arrays;

/**
 * Ranking quality of one query with one relevant document at 1-based rank r:
 *
 * <ul>
 *   <li>recall@k = 1 if r ≤ k, else 0
 *   <li>reciprocal rank = 1/r; its mean over queries is the MRR (E. Voorhees, "The TREC-8 Question
 *       Answering Track Report", 1999)
 *   <li>nDCG@k = DCG@k / IDCG@k with DCG@k = Σ<sub>i≤k</sub> rel<sub>i</sub> / log<sub>2</sub>(i +
 *       1) (K. Järvelin and J. Kekäläinen, "Cumulated gain-based evaluation of IR techniques", ACM
 *       TOIS 20(4), 2002); with one relevant document IDCG = 1, so nDCG@k = 1/log<sub>2</sub>(r +
 *       1) if r ≤ k, else 0
 *   <li>top-k overlap with the baseline = |top-k(model) ∩ top-k(baseline)| / k
 * </ul>
 *
 * Ties in scores are broken by document index, so rankings are deterministic.
 */
public final class RankingMetrics {
  private RankingMetrics() {}

  /** 1-based rank of {@code target}: 1 + documents scoring higher (or equal with a lower index). */
  public static int rank(float[] scores, int target) {
    float t = scores[target];
    int r = 1;
    for (int j = 0; j < scores.length; j++) {
      if (scores[j] > t || (scores[j] == t && j < target)) {
        r++;
      }
    }
    return r;
  }

  /** Indices of the k highest scores, best first. */
  public static int[] topK(float[] scores, int k) {
    int n = Math.min(k, scores.length);
    int[] top = new int[n];
    float[] val = new float[n];
    int size = 0;
    for (int j = 0; j < scores.length; j++) {
      float s = scores[j];
      if (size == n && !(s > val[n - 1])) {
        continue;
      }
      int pos = size < n ? size++ : n - 1;
      while (pos > 0 && s > val[pos - 1]) {
        top[pos] = top[pos - 1];
        val[pos] = val[pos - 1];
        pos--;
      }
      top[pos] = j;
      val[pos] = s;
    }
    return top;
  }

  public static double recallAtK(int rank, int k) {
    return rank <= k ? 1 : 0;
  }

  public static double reciprocalRank(int rank) {
    return 1.0 / rank;
  }

  public static double ndcgAtK(int rank, int k) {
    return rank <= k ? 1 / (Math.log(rank + 1) / Math.log(2)) : 0;
  }

  /** |a ∩ b| / k for two top-k lists. */
  public static double overlap(int[] a, int[] b, int k) {
    int[] sa = a.clone();
    Arrays.sort(sa);
    int common = 0;
    for (int x : b) {
      if (Arrays.binarySearch(sa, x) >= 0) {
        common++;
      }
    }
    return (double) common / k;
  }
}

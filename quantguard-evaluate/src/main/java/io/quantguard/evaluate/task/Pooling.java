package io.quantguard.evaluate.task;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import java.util.Arrays;
import java.util.Locale;

/**
 * Turns token states [batch, tokens, dim] into one vector per sample, then L2-normalizes it (e /
 * ‖e‖, as sentence-transformers does before cosine similarity):
 *
 * <ul>
 *   <li>{@code mean}: e = Σ<sub>t</sub> m<sub>t</sub> h<sub>t</sub> / Σ<sub>t</sub> m<sub>t</sub>
 *       with m the batch's {@code attention_mask} (all ones without one), so padding does not count
 *       — the pooling all-MiniLM-L6-v2 was trained with
 *   <li>{@code cls}: e = h<sub>0</sub>, the first token's state
 * </ul>
 *
 * A model that already outputs [batch, dim] vectors is used as it is (only normalized). Public for
 * drift monitoring, which summarizes the same sentence embeddings.
 */
public enum Pooling {
  MEAN,
  CLS;

  public static Pooling parse(String s) {
    return valueOf(s.toUpperCase(Locale.ROOT));
  }

  public Embeddings embed(Batch batch, Tensor states, String outputName, boolean normalize) {
    long[] s = states.shape();
    float[] h = states.toFloats();
    float[] out;
    int n;
    int dim;
    if (s.length == 2) {
      n = (int) s[0];
      dim = (int) s[1];
      out = Arrays.copyOf(h, h.length);
    } else if (s.length == 3) {
      n = (int) s[0];
      int len = (int) s[1];
      dim = (int) s[2];
      out = new float[n * dim];
      long[] mask = mask(batch, n, len);
      for (int r = 0; r < n; r++) {
        if (this == CLS) {
          System.arraycopy(h, r * len * dim, out, r * dim, dim);
          continue;
        }
        double[] sum = new double[dim];
        long count = 0;
        for (int t = 0; t < len; t++) {
          if (mask[r * len + t] == 0) {
            continue;
          }
          count++;
          int at = (r * len + t) * dim;
          for (int d = 0; d < dim; d++) {
            sum[d] += h[at + d];
          }
        }
        for (int d = 0; d < dim; d++) {
          out[r * dim + d] = (float) (sum[d] / Math.max(1, count));
        }
      }
    } else {
      throw new InvalidInputException(
          "output '" + outputName + "'",
          "has shape "
              + Arrays.toString(s)
              + "; embeddings need [batch, dim] or [batch, tokens, dim]",
          "pick the hidden-state output with ?output=NAME");
    }
    if (normalize) {
      for (int r = 0; r < n; r++) {
        double norm = 0;
        for (int d = 0; d < dim; d++) {
          norm += (double) out[r * dim + d] * out[r * dim + d];
        }
        double inv = norm == 0 ? 0 : 1 / Math.sqrt(norm);
        for (int d = 0; d < dim; d++) {
          out[r * dim + d] = (float) (out[r * dim + d] * inv);
        }
      }
    }
    return new Embeddings(out, n, dim);
  }

  private static long[] mask(Batch batch, int n, int len) {
    Tensor m = batch.inputs().get("attention_mask");
    if (m == null) {
      long[] ones = new long[n * len];
      Arrays.fill(ones, 1);
      return ones;
    }
    long[] ms = m.shape();
    if (ms.length != 2 || ms[0] != n || ms[1] != len) {
      throw new InvalidInputException(
          "attention_mask",
          "has shape "
              + Arrays.toString(ms)
              + " but the hidden states are ["
              + n
              + ", "
              + len
              + ", …]",
          "feed the mask that goes with the token inputs");
    }
    long[] out = new long[n * len];
    for (int i = 0; i < out.length; i++) {
      out[i] = (long) m.get(i);
    }
    return out;
  }
}

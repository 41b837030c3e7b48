package io.quantguard.runtime;

import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.DoubleStream;

/**
 * Sentence embeddings of an encoder's {@code last_hidden_state} (masked mean pooling, then L2
 * normalization, as sentence-transformers does) and the cosine between two models' embeddings of
 * the same texts: how the MiniLM tests of several modules measure a quantized model against FP32.
 */
public final class SentenceEmbeddings {
  private SentenceEmbeddings() {}

  /** The mean of {@link #cosines}. */
  public static double meanCosine(Path baseline, Path candidate, String data) {
    return Arrays.stream(cosines(baseline, candidate, data)).average().orElseThrow();
  }

  /** The cosine between the two models' sentence embeddings of each text, 32 texts a batch. */
  public static double[] cosines(Path baseline, Path candidate, String data) {
    return cosines(baseline, candidate, data, 32);
  }

  /**
   * The same in batches of {@code batchSize}: padding follows the longest text of a batch, and a
   * model that quantizes at run time sees the batch, so the size is part of the measurement.
   */
  public static double[] cosines(Path baseline, Path candidate, String data, int batchSize) {
    DoubleStream.Builder out = DoubleStream.builder();
    try (InferenceSession b = InferenceSession.open(baseline, SessionConfig.defaults());
        InferenceSession c = InferenceSession.open(candidate, SessionConfig.defaults());
        BatchStream s = DataSpec.parse(data).open(batchSize)) {
      while (s.hasNext()) {
        Batch batch = s.next();
        float[][] x = embed(b.run(batch.inputs()).get("last_hidden_state"), batch);
        float[][] y = embed(c.run(batch.inputs()).get("last_hidden_state"), batch);
        for (int i = 0; i < x.length; i++) {
          double dot = 0;
          for (int d = 0; d < x[i].length; d++) {
            dot += x[i][d] * y[i][d];
          }
          out.add(dot);
        }
      }
    }
    return out.build().toArray();
  }

  /** Attention-masked mean pooling, then L2 normalization (the sentence-transformers recipe). */
  public static float[][] embed(Tensor hidden, Batch batch) {
    long[] s = hidden.shape();
    int rows = (int) s[0];
    int len = (int) s[1];
    int dim = (int) s[2];
    long[] mask = batch.inputs().get("attention_mask").longs();
    float[] h = hidden.floats();
    float[][] out = new float[rows][dim];
    for (int i = 0; i < rows; i++) {
      int count = 0;
      for (int t = 0; t < len; t++) {
        if (mask[i * len + t] != 0) {
          count++;
          for (int d = 0; d < dim; d++) {
            out[i][d] += h[(i * len + t) * dim + d];
          }
        }
      }
      double norm = 0;
      for (int d = 0; d < dim; d++) {
        out[i][d] /= count;
        norm += out[i][d] * out[i][d];
      }
      float inv = (float) (1 / Math.sqrt(norm));
      for (int d = 0; d < dim; d++) {
        out[i][d] *= inv;
      }
    }
    return out;
  }
}

package io.quantguard.evaluate.task;

import io.quantguard.evaluate.PairedMetrics;
import io.quantguard.evaluate.Task;
import io.quantguard.evaluate.TaskOptions;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Dense retrieval: queries and a corpus are embedded by the same model (see {@link Pooling}); each
 * query ranks every corpus document by cosine similarity; document i is the relevant one for query
 * i (e.g. a Europarl session's title as query and its body as document). Options: {@code queries}
 * and {@code corpus} (the data set names, default {@code queries} and {@code corpus}), {@code k}
 * (default 10), {@code output}, {@code pooling=mean|cls}.
 */
final class RetrievalTask implements Task<Embeddings> {
  private final @Nullable String output;
  private final Pooling pooling;
  private final int k;
  private final String queries;
  private final String corpus;

  RetrievalTask(TaskOptions o) {
    this.output = o.string("output");
    this.pooling = Pooling.parse(o.choice("pooling", "mean", "mean", "cls"));
    this.k = o.integer("k", 10, 1);
    this.queries = o.string("queries", "queries");
    this.corpus = o.string("corpus", "corpus");
  }

  @Override
  public String name() {
    return "retrieval";
  }

  @Override
  public List<String> outputs(String model, List<String> modelOutputs) {
    return List.of(EmbeddingTask.embeddingOutput(name(), model, modelOutputs, output));
  }

  @Override
  public Embeddings predict(Batch batch, Map<String, Tensor> outputs) {
    Map.Entry<String, Tensor> e = outputs.entrySet().iterator().next();
    return pooling.embed(batch, e.getValue(), e.getKey(), true);
  }

  @Override
  public PairedMetrics<Embeddings> newMetrics() {
    return new RetrievalMetrics(queries, corpus, k);
  }

  @Override
  public boolean sliceable() {
    return false;
  }

  @Override
  public List<String> requiredData() {
    return List.of(queries, corpus);
  }
}

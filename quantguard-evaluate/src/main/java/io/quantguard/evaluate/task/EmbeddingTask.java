package io.quantguard.evaluate.task;

import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.PairedMetrics;
import io.quantguard.evaluate.Task;
import io.quantguard.evaluate.TaskOptions;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Sentence embeddings: hidden states → pooled, L2-normalized vectors (see {@link Pooling}), scored
 * by their cosine to the baseline's vector for the same sample and the SQNR of the difference.
 * Options: {@code output} (default {@code last_hidden_state}, else the first output), {@code
 * pooling=mean|cls}, {@code normalize=true|false}.
 */
final class EmbeddingTask implements Task<Embeddings> {
  static final String DEFAULT_OUTPUT = "last_hidden_state";

  private final @Nullable String output;
  private final Pooling pooling;
  private final boolean normalize;

  EmbeddingTask(TaskOptions o) {
    this.output = o.string("output");
    this.pooling = Pooling.parse(o.choice("pooling", "mean", "mean", "cls"));
    this.normalize = o.choice("normalize", "true", "true", "false").equals("true");
  }

  @Override
  public String name() {
    return "embedding";
  }

  static String embeddingOutput(
      String task, String model, List<String> outputs, @Nullable String wanted) {
    if (wanted == null && outputs.contains(DEFAULT_OUTPUT)) {
      return DEFAULT_OUTPUT;
    }
    return Outputs.pick(task, model, outputs, wanted);
  }

  @Override
  public List<String> outputs(String model, List<String> modelOutputs) {
    return List.of(embeddingOutput(name(), model, modelOutputs, output));
  }

  @Override
  public Embeddings predict(Batch batch, Map<String, Tensor> outputs) {
    Map.Entry<String, Tensor> e = outputs.entrySet().iterator().next();
    return pooling.embed(batch, e.getValue(), e.getKey(), normalize);
  }

  @Override
  public PairedMetrics<Embeddings> newMetrics() {
    return new EmbeddingMetrics(null);
  }

  @Override
  public PairedMetrics<Embeddings> newMetrics(Bootstrap bootstrap) {
    return new EmbeddingMetrics(bootstrap);
  }
}

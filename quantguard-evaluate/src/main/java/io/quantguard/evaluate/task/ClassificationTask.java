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
 * Classification: scores [batch, classes] → the arg-max class, the top-k classes and the top
 * class's probability (softmax of logits, p<sub>j</sub> = e<sup>z<sub>j</sub>−max z</sup> / Σ
 * e<sup>z<sub>i</sub>−max z</sup>, or the scores as they are when the model already outputs
 * probabilities). Options: {@code output} (default the model's first output), {@code k} (top-k,
 * default 5), {@code scores=logits|probabilities}, {@code classes=name,name,...}, {@code margin}
 * (default {@value #DEFAULT_MARGIN}: a baseline prediction whose top-1 minus top-2 probability is
 * below it is a near tie, and a flip there counts as a low-margin flip).
 */
final class ClassificationTask implements Task<ClassPredictions> {
  static final double DEFAULT_MARGIN = 0.1;

  private final @Nullable String output;
  private final int k;
  private final double margin;
  private final boolean logits;
  private final List<String> classNames;

  ClassificationTask(TaskOptions o) {
    this.output = o.string("output");
    this.k = o.integer("k", 5, 1);
    this.logits = o.choice("scores", "logits", "logits", "probabilities").equals("logits");
    this.classNames = List.copyOf(o.list("classes"));
    this.margin = o.fraction("margin", DEFAULT_MARGIN);
  }

  @Override
  public String name() {
    return "classification";
  }

  @Override
  public List<String> outputs(String model, List<String> modelOutputs) {
    return List.of(Outputs.pick(name(), model, modelOutputs, output));
  }

  @Override
  public ClassPredictions predict(Batch batch, Map<String, Tensor> outputs) {
    String out = output != null ? output : outputs.keySet().iterator().next();
    Tensor t = Outputs.get(outputs, out);
    float[] z = Outputs.matrix(t, out, "class scores [batch, classes]");
    int n = t.batchSize();
    int c = (int) t.shape()[1];
    int kk = Math.min(k, c);
    int[] top1 = new int[n];
    int[] topK = new int[n * kk];
    float[] conf = new float[n];
    float[] gap = new float[n];
    for (int r = 0; r < n; r++) {
      int base = r * c;
      int best = 0;
      for (int j = 1; j < c; j++) {
        if (z[base + j] > z[base + best]) {
          best = j;
        }
      }
      int second = -1;
      for (int j = 0; j < c; j++) {
        if (j != best && (second < 0 || z[base + j] > z[base + second])) {
          second = j;
        }
      }
      top1[r] = best;
      fillTopK(z, base, c, topK, r * kk, kk);
      if (logits) {
        double max = z[base + best];
        double sum = 0;
        for (int j = 0; j < c; j++) {
          sum += Math.exp(z[base + j] - max);
        }
        conf[r] = (float) (1 / sum);
        gap[r] = second < 0 ? conf[r] : (float) ((1 - Math.exp(z[base + second] - max)) / sum);
      } else {
        conf[r] = z[base + best];
        gap[r] = second < 0 ? conf[r] : z[base + best] - z[base + second];
      }
    }
    return new ClassPredictions(c, top1, topK, kk, conf, gap);
  }

  /** The kk best classes of one row, best first (ties: lower class first). */
  private static void fillTopK(float[] z, int base, int c, int[] out, int at, int kk) {
    for (int s = 0; s < kk; s++) {
      int best = -1;
      for (int j = 0; j < c; j++) {
        boolean taken = false;
        for (int t = 0; t < s; t++) {
          if (out[at + t] == j) {
            taken = true;
            break;
          }
        }
        if (!taken && (best < 0 || z[base + j] > z[base + best])) {
          best = j;
        }
      }
      out[at + s] = best;
    }
  }

  @Override
  public PairedMetrics<ClassPredictions> newMetrics() {
    return new ClassificationMetrics(k, margin, classNames);
  }

  @Override
  public PairedMetrics<ClassPredictions> newMetrics(Bootstrap bootstrap) {
    return new ClassificationMetrics(k, margin, classNames, bootstrap);
  }

  @Override
  public String labelName(long label) {
    return className((int) label);
  }

  private String className(int c) {
    return c >= 0 && c < classNames.size() ? classNames.get(c) : Integer.toString(c);
  }
}

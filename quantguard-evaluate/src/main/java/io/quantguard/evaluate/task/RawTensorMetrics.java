package io.quantguard.evaluate.task;

import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.Observation;
import io.quantguard.evaluate.PairedMetrics;
import io.quantguard.evaluate.TensorAgreement;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.report.TaskResult;
import java.util.LinkedHashMap;
import java.util.Map;

/** Per-sample cosine, signal and noise energy over the chosen outputs, and the max abs error. */
final class RawTensorMetrics implements PairedMetrics<RawOutputs> {
  private final FloatColumn cosine = new FloatColumn();
  private final FloatColumn signal = new FloatColumn();
  private final FloatColumn noise = new FloatColumn();
  private double maxAbs;

  @Override
  public void add(Observation<RawOutputs> o) {
    RawOutputs b = o.baseline();
    RawOutputs m = o.model();
    if (!java.util.Arrays.equals(b.widths(), m.widths())) {
      throw new InvalidInputException(
          o.dataset(),
          "the model's outputs have "
              + java.util.Arrays.toString(m.widths())
              + " elements per sample, the baseline's "
              + java.util.Arrays.toString(b.widths()),
          "compare models with the same output shapes");
    }
    for (int r : o.rows()) {
      double dot = 0;
      double xx = 0;
      double yy = 0;
      double nn = 0;
      for (int i = 0; i < b.widths().length; i++) {
        int w = b.widths()[i];
        TensorAgreement.Sums s =
            TensorAgreement.sums(b.values().get(i), m.values().get(i), r * w, w);
        dot += s.dot();
        xx += s.xx();
        yy += s.yy();
        nn += s.noise();
        maxAbs = Math.max(maxAbs, s.maxAbs());
      }
      cosine.add(new TensorAgreement.Sums(dot, xx, yy, nn, 0).cosine());
      signal.add(xx);
      noise.add(nn);
    }
  }

  @Override
  public void merge(PairedMetrics<RawOutputs> other) {
    RawTensorMetrics o = (RawTensorMetrics) other;
    cosine.addAll(o.cosine);
    signal.addAll(o.signal);
    noise.addAll(o.noise);
    maxAbs = Math.max(maxAbs, o.maxAbs);
  }

  @Override
  public long samples() {
    return cosine.size();
  }

  @Override
  public TaskResult result(Bootstrap bootstrap) {
    var metrics =
        bootstrap.estimate(EmbeddingMetrics.agreementTable(cosine, signal, noise, "cosine_mean"));
    Map<String, Double> figures = new LinkedHashMap<>();
    figures.put("max_abs_error", maxAbs);
    figures.put("cosine_min", cosine.percentile(0));
    figures.put("cosine_p05", cosine.percentile(0.05));
    return new TaskResult(samples(), metrics, figures, null);
  }
}

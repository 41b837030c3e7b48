package io.quantguard.evaluate.task;

import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.Observation;
import io.quantguard.evaluate.PairedMetrics;
import io.quantguard.evaluate.SampleTable;
import io.quantguard.evaluate.TensorAgreement;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.report.MetricSpec;
import io.quantguard.report.TaskResult;
import java.util.LinkedHashMap;
import java.util.List;
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
    var metrics = bootstrap.estimate(agreementTable());
    Map<String, Double> figures = new LinkedHashMap<>();
    figures.put("max_abs_error", maxAbs);
    figures.put("cosine_min", cosine.percentile(0));
    figures.put("cosine_p05", cosine.percentile(0.05));
    return new TaskResult(samples(), metrics, figures, null);
  }

  /** Mean cosine and pooled SQNR over resampled rows. */
  private SampleTable agreementTable() {
    return new SampleTable() {
      @Override
      public int size() {
        return cosine.size();
      }

      @Override
      public List<MetricSpec> metrics() {
        return List.of(
            MetricSpec.againstBaseline("cosine_mean", true),
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

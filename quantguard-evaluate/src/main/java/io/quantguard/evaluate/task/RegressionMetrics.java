package io.quantguard.evaluate.task;

import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.Observation;
import io.quantguard.evaluate.PairedMetrics;
import io.quantguard.evaluate.SampleTable;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.report.MetricSpec;
import io.quantguard.report.TaskResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * MAE = Σ|y − ŷ|/n and RMSE = √(Σ(y − ŷ)²/n) of model and baseline against the targets, and the
 * mean absolute difference between the model's and the baseline's predictions.
 */
final class RegressionMetrics implements PairedMetrics<float[]> {
  private final String targetAttribute;
  private final FloatColumn target = new FloatColumn();
  private final FloatColumn base = new FloatColumn();
  private final FloatColumn model = new FloatColumn();
  private double maxDiff;

  RegressionMetrics(String targetAttribute) {
    this.targetAttribute = targetAttribute;
  }

  @Override
  public void add(Observation<float[]> o) {
    for (int r : o.rows()) {
      String t = o.attribute(r, targetAttribute);
      double y;
      if (t != null) {
        try {
          y = Double.parseDouble(t);
        } catch (NumberFormatException e) {
          throw new InvalidInputException(
              o.dataset(),
              "sample " + (o.batch().offset() + r) + " has " + targetAttribute + "=" + t,
              "give numeric regression targets");
        }
      } else {
        y = o.batch().hasLabels() ? o.label(r) : Double.NaN;
      }
      target.add(y);
      base.add(o.baseline()[r]);
      model.add(o.model()[r]);
      maxDiff = Math.max(maxDiff, Math.abs(o.model()[r] - o.baseline()[r]));
    }
  }

  @Override
  public void merge(PairedMetrics<float[]> other) {
    RegressionMetrics o = (RegressionMetrics) other;
    target.addAll(o.target);
    base.addAll(o.base);
    model.addAll(o.model);
    maxDiff = Math.max(maxDiff, o.maxDiff);
  }

  @Override
  public long samples() {
    return target.size();
  }

  @Override
  public TaskResult result(Bootstrap bootstrap) {
    boolean any = false;
    for (int i = 0; i < target.size() && !any; i++) {
      any = !Float.isNaN(target.get(i));
    }
    boolean withTargets = any;
    SampleTable table =
        new SampleTable() {
          @Override
          public int size() {
            return target.size();
          }

          @Override
          public List<MetricSpec> metrics() {
            List<MetricSpec> s = new ArrayList<>();
            if (withTargets) {
              s.add(MetricSpec.absolute("mae", false));
              s.add(MetricSpec.absolute("rmse", false));
            }
            s.add(MetricSpec.againstBaseline("mean_abs_diff", false));
            return s;
          }

          @Override
          public void evaluate(int[] w, double[] m, double[] b) {
            long n = 0;
            long t = 0;
            double baseAbs = 0;
            double modelAbs = 0;
            double baseSq = 0;
            double modelSq = 0;
            double diff = 0;
            for (int row = 0; row < w.length; row++) {
              int wi = w[row];
              if (wi == 0) {
                continue;
              }
              n += wi;
              double bv = base.get(row);
              double mv = model.get(row);
              diff += wi * Math.abs(mv - bv);
              double y = target.get(row);
              if (!Double.isNaN(y)) {
                t += wi;
                baseAbs += wi * Math.abs(bv - y);
                modelAbs += wi * Math.abs(mv - y);
                baseSq += wi * (bv - y) * (bv - y);
                modelSq += wi * (mv - y) * (mv - y);
              }
            }
            int i = 0;
            double dt = t == 0 ? Double.NaN : t;
            if (withTargets) {
              m[i] = modelAbs / dt;
              b[i++] = baseAbs / dt;
              m[i] = Math.sqrt(modelSq / dt);
              b[i++] = Math.sqrt(baseSq / dt);
            }
            m[i] = n == 0 ? Double.NaN : diff / n;
          }
        };
    return new TaskResult(
        samples(), bootstrap.estimate(table), Map.of("max_abs_diff", maxDiff), null);
  }
}

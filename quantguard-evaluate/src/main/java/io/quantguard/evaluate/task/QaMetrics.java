package io.quantguard.evaluate.task;

import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.Observation;
import io.quantguard.evaluate.PairedMetrics;
import io.quantguard.evaluate.SampleTable;
import io.quantguard.evaluate.SquadScore;
import io.quantguard.report.MetricSpec;
import io.quantguard.report.TaskResult;
import io.quantguard.runtime.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * SQuAD exact match and F1 of model and baseline against the gold answers (where samples have
 * them), and of the model's answer against the baseline's answer (agreement).
 */
final class QaMetrics implements PairedMetrics<Spans> {
  private final ExtractiveQaTask task;
  private final FloatColumn baseEm = new FloatColumn();
  private final FloatColumn modelEm = new FloatColumn();
  private final FloatColumn baseF1 = new FloatColumn();
  private final FloatColumn modelF1 = new FloatColumn();
  private final FloatColumn agreeEm = new FloatColumn();
  private final FloatColumn agreeF1 = new FloatColumn();
  private long samples;

  QaMetrics(ExtractiveQaTask task) {
    this.task = task;
  }

  @Override
  public void add(Observation<Spans> o) {
    for (int r : o.rows()) {
      samples++;
      String b = o.baseline().text()[r];
      String m = o.model().text()[r];
      agreeEm.add(SquadScore.exactMatch(m, b));
      agreeF1.add(SquadScore.f1(m, b));
      List<String> gold = gold(o, r);
      if (!gold.isEmpty()) {
        baseEm.add(SquadScore.exactMatch(b, gold));
        modelEm.add(SquadScore.exactMatch(m, gold));
        baseF1.add(SquadScore.f1(b, gold));
        modelF1.add(SquadScore.f1(m, gold));
      } else {
        baseEm.add(Double.NaN);
        modelEm.add(Double.NaN);
        baseF1.add(Double.NaN);
        modelF1.add(Double.NaN);
      }
    }
  }

  private List<String> gold(Observation<Spans> o, int r) {
    String answers = o.attribute(r, "answers");
    if (answers != null) {
      return Arrays.asList(answers.split("\\|", -1));
    }
    String s = o.attribute(r, "answer_start");
    String e = o.attribute(r, "answer_end");
    if (s != null && e != null) {
      // Without token ids, text() names spans by position and needs no row length.
      Tensor ids = o.batch().inputs().get("input_ids");
      int len = ids == null ? 0 : (int) ids.shape()[1];
      return List.of(task.text(o.batch(), r, len, Integer.parseInt(s), Integer.parseInt(e)));
    }
    return List.of();
  }

  @Override
  public void merge(PairedMetrics<Spans> other) {
    QaMetrics o = (QaMetrics) other;
    baseEm.addAll(o.baseEm);
    modelEm.addAll(o.modelEm);
    baseF1.addAll(o.baseF1);
    modelF1.addAll(o.modelF1);
    agreeEm.addAll(o.agreeEm);
    agreeF1.addAll(o.agreeF1);
    samples += o.samples;
  }

  @Override
  public long samples() {
    return samples;
  }

  @Override
  public TaskResult result(Bootstrap bootstrap) {
    boolean gold = false;
    for (int i = 0; i < baseEm.size() && !gold; i++) {
      gold = !Float.isNaN(baseEm.get(i));
    }
    boolean withGold = gold;
    SampleTable table =
        new SampleTable() {
          @Override
          public int size() {
            return (int) samples;
          }

          @Override
          public List<MetricSpec> metrics() {
            List<MetricSpec> s = new ArrayList<>();
            if (withGold) {
              s.add(MetricSpec.absolute("exact_match", true));
              s.add(MetricSpec.absolute("f1", true));
            }
            s.add(MetricSpec.againstBaseline("agreement_exact_match", true));
            s.add(MetricSpec.againstBaseline("agreement_f1", true));
            return s;
          }

          @Override
          public void evaluate(int[] w, double[] model, double[] baseline) {
            long n = 0;
            long g = 0;
            double[] sums = new double[6];
            for (int row = 0; row < w.length; row++) {
              int wi = w[row];
              if (wi == 0) {
                continue;
              }
              n += wi;
              sums[4] += wi * agreeEm.get(row);
              sums[5] += wi * agreeF1.get(row);
              if (!Float.isNaN(baseEm.get(row))) {
                g += wi;
                sums[0] += wi * baseEm.get(row);
                sums[1] += wi * modelEm.get(row);
                sums[2] += wi * baseF1.get(row);
                sums[3] += wi * modelF1.get(row);
              }
            }
            int i = 0;
            double dg = g == 0 ? Double.NaN : g;
            if (withGold) {
              baseline[i] = sums[0] / dg;
              model[i++] = sums[1] / dg;
              baseline[i] = sums[2] / dg;
              model[i++] = sums[3] / dg;
            }
            double dn = n == 0 ? Double.NaN : n;
            model[i++] = sums[4] / dn;
            model[i] = sums[5] / dn;
          }
        };
    return new TaskResult(samples, bootstrap.estimate(table), Map.of(), null);
  }
}

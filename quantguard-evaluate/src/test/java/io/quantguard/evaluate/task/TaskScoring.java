package io.quantguard.evaluate.task;

import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.Observation;
import io.quantguard.evaluate.PairedMetrics;
import io.quantguard.evaluate.Task;
import io.quantguard.report.TaskResult;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/** Drives a task the way the evaluation does: predict per model, then add paired observations. */
final class TaskScoring {
  private TaskScoring() {}

  /** One batch scored in one accumulator, with the baseline's and the model's raw outputs. */
  static <P> PairedMetrics<P> add(
      Task<P> task,
      PairedMetrics<P> into,
      Batch batch,
      Map<String, Tensor> baseline,
      Map<String, Tensor> model) {
    P b = task.predict(batch, baseline);
    P m = task.predict(batch, model);
    into.add(new Observation<>("test", batch, b, m, IntStream.range(0, batch.size()).toArray()));
    return into;
  }

  static <P> TaskResult score(
      Task<P> task,
      List<Batch> batches,
      List<Map<String, Tensor>> base,
      List<Map<String, Tensor>> model) {
    PairedMetrics<P> acc = task.newMetrics();
    for (int i = 0; i < batches.size(); i++) {
      add(task, acc, batches.get(i), base.get(i), model.get(i));
    }
    return acc.result(Bootstrap.defaults());
  }
}

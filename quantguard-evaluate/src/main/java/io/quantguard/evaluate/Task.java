package io.quantguard.evaluate;

import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import java.util.List;
import java.util.Map;

/**
 * What a model is for: turns its raw outputs into predictions ({@code P}) and scores a model's
 * predictions against the labels and against the baseline's predictions on the same samples. A task
 * is stateless; all state lives in the {@link PairedMetrics} it creates. Teams add their own KPI by
 * implementing a task and registering a {@link TaskFactory} for {@link java.util.ServiceLoader}.
 *
 * @param <P> the predictions of one model on one batch (rows in batch order)
 */
public interface Task<P> {
  /** The task's name as users write it ({@code classification}, {@code embedding}, ...). */
  String name();

  /**
   * The model outputs to compute, given the outputs a model has. Throws {@link
   * io.quantguard.onnx.InvalidInputException} when the model lacks an output the task was told to
   * read.
   */
  List<String> outputs(String model, List<String> modelOutputs);

  /** One model's predictions on one batch from the outputs named by {@link #outputs}. */
  P predict(Batch batch, Map<String, Tensor> outputs);

  /** A fresh, empty accumulator comparing one model with the baseline. */
  PairedMetrics<P> newMetrics();

  /**
   * A fresh accumulator whose {@link PairedMetrics#result} will be asked for with {@code
   * bootstrap}: a task that can draw its replicates as the rows arrive (under Poisson resampling)
   * keeps a state whose size does not grow with the rows; by default the rows are kept.
   */
  default PairedMetrics<P> newMetrics(Bootstrap bootstrap) {
    return newMetrics();
  }

  /**
   * Whether metrics can be computed on any subset of samples. Retrieval, which ranks a whole corpus
   * for each query, cannot be sliced.
   */
  default boolean sliceable() {
    return true;
  }

  /** The data set names the task needs ({@code queries}, {@code corpus}); empty for any data. */
  default List<String> requiredData() {
    return List.of();
  }

  /** How a label appears in slice names and reports (a class name where the task knows it). */
  default String labelName(long label) {
    return Long.toString(label);
  }
}

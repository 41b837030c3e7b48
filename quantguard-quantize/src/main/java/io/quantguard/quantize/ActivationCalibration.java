package io.quantguard.quantize;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSource;
import io.quantguard.runtime.data.Prefetch;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jspecify.annotations.Nullable;

/**
 * The local driver of a {@link CalibrationPlan}: one streaming pass of the FP32 model over the
 * calibration data with every tensor to be observed exposed as an output, each batch folded into
 * the plan's {@link CalibrationAccumulator} — the same accumulator a distributed job feeds on each
 * partition, so local and distributed calibration cannot disagree. ONNX Runtime runs a batch on all
 * cores while a second thread folds the previous batch and a third reads ahead, so the statistics
 * cost little beyond the inference itself; memory stays at a few batches plus one histogram per
 * tensor.
 */
final class ActivationCalibration {
  private ActivationCalibration() {}

  /** Statistics per tensor, with the fingerprint and number of the samples they came from. */
  record Result(
      Map<String, TensorStatistics> statistics,
      Map<String, ChannelStatistics> channels,
      String fingerprint,
      long samples,
      long nanos) {}

  static Calibration run(
      CalibrationPlan plan, DataSource data, SessionConfig config, Progress progress) {
    CalibrationAccumulator accumulator = plan.newAccumulator();
    List<String> exposed = plan.outputs();
    long maxSamples = plan.maxSamples();
    long start = System.nanoTime();
    long seen = 0;
    long total =
        data.size().isPresent() ? Math.min(data.size().getAsLong(), maxSamples) : maxSamples;
    ExecutorService folder =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread th = new Thread(r, "quantguard-calibration");
              th.setDaemon(true);
              return th;
            });
    Future<?> pending = null;
    try (InferenceSession session = InferenceSession.open(plan.model().copy(), config, exposed);
        BatchStream batches = Prefetch.of(data.open(plan.batchSize()), 2)) {
      while (batches.hasNext() && seen < maxSamples) {
        Batch b = batches.next();
        if (seen + b.size() > maxSamples) {
          b = b.slice(0, (int) (maxSamples - seen));
        }
        // Statistics of graph inputs come from the feed itself; with nothing else to observe (a
        // single quantized node reading the input) the model need not run.
        Map<String, Tensor> feed = session.bind(b.inputs());
        Map<String, Tensor> values = new LinkedHashMap<>(feed);
        if (!exposed.isEmpty()) {
          values.putAll(session.run(feed, exposed));
        }
        Batch batch = b;
        await(pending);
        pending = folder.submit(() -> accumulator.add(batch, values));
        seen += b.size();
        progress.update("calibrating", seen, total);
      }
      await(pending);
    } finally {
      folder.shutdownNow();
    }
    if (seen == 0) {
      throw new InvalidInputException(
          data.name(), "holds no samples", "give representative calibration data");
    }
    return plan.finish(accumulator, System.nanoTime() - start);
  }

  private static void await(@Nullable Future<?> f) {
    if (f == null) {
      return;
    }
    try {
      f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("calibration interrupted", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(e.getCause());
    }
  }
}

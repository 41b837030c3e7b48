package io.quantguard.quantize;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataFingerprint;
import io.quantguard.runtime.data.DataSource;
import io.quantguard.runtime.data.Prefetch;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * One streaming pass of the FP32 model over the calibration data with every tensor to be quantized
 * exposed as an output (and, for their {@link ChannelStatistics}, the inputs of weight-only layers
 * and of the static matrix products and convolutions that are smoothed or bias-corrected). ONNX
 * Runtime runs a batch on all cores while a second thread folds the previous batch into the {@link
 * TensorStatistics} and a third reads ahead, so the statistics cost little beyond the inference
 * itself; memory stays at a few batches plus one histogram per tensor.
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

  static Result run(
      OnnxModel model,
      Set<String> tensors,
      Map<String, ChannelStatistics.Layout> channelTensors,
      int gramRows,
      DataSource data,
      int batchSize,
      long maxSamples,
      SessionConfig config,
      Progress progress) {
    Map<String, TensorStatistics> stats = new LinkedHashMap<>();
    for (String t : tensors) {
      stats.put(t, new TensorStatistics(t));
    }
    Map<String, ChannelStatistics> channels = new LinkedHashMap<>();
    channelTensors.forEach((t, l) -> channels.put(t, new ChannelStatistics(t, l, gramRows)));
    Set<String> inputs = new LinkedHashSet<>();
    model.graph().runtimeInputs().forEach(v -> inputs.add(v.getName()));
    List<String> exposed = new ArrayList<>();
    Set<String> all = new LinkedHashSet<>(tensors);
    all.addAll(channelTensors.keySet());
    for (String t : all) {
      if (!inputs.contains(t)) {
        exposed.add(t);
      }
    }
    DataFingerprint fingerprint = new DataFingerprint();
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
    try (InferenceSession session = InferenceSession.open(model, config, exposed);
        BatchStream batches = Prefetch.of(data.open(batchSize), 2)) {
      while (batches.hasNext() && seen < maxSamples) {
        Batch b = batches.next();
        if (seen + b.size() > maxSamples) {
          b = truncate(b, (int) (maxSamples - seen));
        }
        fingerprint.add(b);
        // Statistics of graph inputs come from the feed itself; with nothing else to observe (a
        // single quantized node reading the input) the model need not run.
        Map<String, Tensor> feed = session.bind(b.inputs());
        Map<String, Tensor> out = exposed.isEmpty() ? Map.of() : session.run(feed, exposed);
        await(pending);
        pending = folder.submit(() -> fold(stats, channels, out, feed));
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
    return new Result(stats, channels, fingerprint.hex(), seen, System.nanoTime() - start);
  }

  private static void fold(
      Map<String, TensorStatistics> stats,
      Map<String, ChannelStatistics> channels,
      Map<String, Tensor> out,
      Map<String, Tensor> feed) {
    for (Map.Entry<String, TensorStatistics> e : stats.entrySet()) {
      Tensor t = out.getOrDefault(e.getKey(), feed.get(e.getKey()));
      if (t != null) {
        e.getValue().add(t.floats());
      }
    }
    for (Map.Entry<String, ChannelStatistics> e : channels.entrySet()) {
      Tensor t = out.getOrDefault(e.getKey(), feed.get(e.getKey()));
      if (t != null) {
        e.getValue().add(t.floats(), t.shape());
      }
    }
  }

  private static void await(Future<?> f) {
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

  private static Batch truncate(Batch b, int n) {
    Map<String, Tensor> in = new LinkedHashMap<>();
    b.inputs().forEach((k, v) -> in.put(k, v.slice(0, n)));
    long[] y = b.labels() == null ? null : java.util.Arrays.copyOf(b.labels(), n);
    return new Batch(
        in, y, b.attributes().isEmpty() ? null : b.attributes().subList(0, n), b.offset());
  }
}

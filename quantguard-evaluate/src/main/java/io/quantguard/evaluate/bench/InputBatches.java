package io.quantguard.evaluate.bench;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The fixed inputs of one batch size: read from the data source once, before any timing, and fed
 * unchanged in every pass, so reading, decoding and tokenizing never fall inside a timed call. Only
 * full batches are kept (a short last batch would time a different batch size).
 */
final class InputBatches {
  private final int batchSize;
  private final List<Map<String, Tensor>> feeds;

  private InputBatches(int batchSize, List<Map<String, Tensor>> feeds) {
    this.batchSize = batchSize;
    this.feeds = List.copyOf(feeds);
  }

  /**
   * The first {@code max(1, maxSamples / batchSize)} full batches of {@code batchSize} samples.
   *
   * @throws InvalidInputException when the data has fewer than {@code batchSize} samples
   */
  static InputBatches read(DataSource data, int batchSize, int maxSamples) {
    int want = Math.max(1, maxSamples / batchSize);
    List<Map<String, Tensor>> feeds = new ArrayList<>();
    int seen = 0;
    try (BatchStream s = data.open(batchSize)) {
      while (feeds.size() < want && s.hasNext()) {
        Batch b = s.next();
        seen += b.size();
        if (b.size() < batchSize) {
          break;
        }
        feeds.add(b.inputs());
      }
    }
    if (feeds.isEmpty()) {
      throw new InvalidInputException(
          data.name(),
          "has " + seen + " samples, not enough for one batch of " + batchSize,
          "use batch sizes of at most " + Math.max(1, seen) + ", or let the data spec read more");
    }
    return new InputBatches(batchSize, feeds);
  }

  int batchSize() {
    return batchSize;
  }

  /** The batches of one pass, in order. */
  List<Map<String, Tensor>> feeds() {
    return feeds;
  }

  /** Samples per pass: {@code batchSize × feeds}. */
  int samples() {
    return batchSize * feeds.size();
  }
}

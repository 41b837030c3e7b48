package io.quantguard.runtime.data;

import io.quantguard.runtime.Tensor;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A batch of samples: model inputs by name (first dimension = samples), optional integer labels,
 * and per-sample attributes (source file, text, length, ...) that slices and reports use.
 *
 * @param offset index of the batch's first sample in its data source
 */
public record Batch(
    Map<String, Tensor> inputs,
    long @Nullable [] labels,
    List<Map<String, String>> attributes,
    long offset) {

  public Batch {
    inputs = Map.copyOf(inputs);
    // null (from callers outside NullAway's reach) reads as no attributes
    attributes = attributes == null ? List.of() : List.copyOf(attributes);
  }

  /** Number of samples in the batch. */
  public int size() {
    return inputs.values().iterator().next().batchSize();
  }

  public boolean hasLabels() {
    return labels != null;
  }
}

package io.quantguard.runtime.data;

import io.quantguard.runtime.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
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

  /** Model inputs alone: no labels, no attributes (a window of traffic, a server's request). */
  public static Batch of(Map<String, Tensor> inputs) {
    return new Batch(inputs, null, List.of(), 0);
  }

  /**
   * Samples without labels, with their attributes, starting at {@code offset} of their source; a
   * module outside this one builds a labelled batch with {@link #withLabels}: javac records the
   * nullness of the {@code labels} array as a field annotation, so callers elsewhere cannot pass a
   * null to the canonical constructor.
   */
  public static Batch unlabelled(
      Map<String, Tensor> inputs, List<Map<String, String>> attributes, long offset) {
    return new Batch(inputs, null, attributes, offset);
  }

  /** These samples with {@code labels}, one per sample. */
  public Batch withLabels(long[] labels) {
    return new Batch(inputs, labels, attributes, offset);
  }

  /**
   * Samples {@code from} (inclusive) to {@code to} (exclusive) of this batch, with their labels and
   * attributes; the offset moves along, so it still names the first sample's place in its source.
   */
  public Batch slice(int from, int to) {
    Map<String, Tensor> in = new LinkedHashMap<>();
    inputs.forEach((k, v) -> in.put(k, v.slice(from, to)));
    long[] y = labels == null ? null : Arrays.copyOfRange(labels, from, to);
    return new Batch(
        in, y, attributes.isEmpty() ? List.of() : attributes.subList(from, to), offset + from);
  }

  /**
   * Number of samples in the batch: the common first dimension, or 1 when the inputs have none (the
   * two operands of a matrix product, a scalar), which makes the batch one sample.
   */
  public int size() {
    return sharesFirstAxis() ? inputs.values().iterator().next().batchSize() : 1;
  }

  /** Whether every input has a first axis of the same length: the axis samples lie along. */
  public boolean sharesFirstAxis() {
    int n = inputs.values().iterator().next().batchSize();
    return inputs.values().stream().allMatch(t -> t.rank() > 0 && t.batchSize() == n);
  }

  public boolean hasLabels() {
    return labels != null;
  }
}

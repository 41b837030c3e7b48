package io.quantguard.serve;

import io.quantguard.evaluate.ConfusionMatrix;
import io.quantguard.runtime.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Ground truth that arrives late: the predicted classes of the last {@code capacity} requests that
 * carried an {@code id} (per version that ran them: the one that answered and a shadow), joined
 * with labels posted later to {@code /v2/feedback}. Each version keeps a confusion matrix of its
 * labelled rows, so live accuracy and macro-F1 are per version; memory is bounded by the window,
 * whatever the traffic. A request's prediction is the arg-max over the last axis of its first
 * floating-point output, per row; labels for a request that left the window (or never carried an
 * id) are reported as unknown, not guessed.
 */
public final class LabelFeedback implements ExchangeObserver {
  private final int capacity;
  private final Map<String, Map<ModelKey, int[]>> pending;
  private final Map<ModelKey, ConfusionMatrix> confusion = new TreeMap<>();
  private long expired;

  /** Keeps the predictions of the last {@code capacity} requests with an id. */
  public LabelFeedback(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("the feedback window must hold at least 1 request");
    }
    this.capacity = capacity;
    this.pending =
        new LinkedHashMap<>(16, 0.75f, false) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Map<ModelKey, int[]>> eldest) {
            if (size() > LabelFeedback.this.capacity) {
              expired++;
              return true;
            }
            return false;
          }
        };
  }

  @Override
  public synchronized void observe(Exchange e) {
    if (e.requestId() == null) {
      return;
    }
    Map<ModelKey, int[]> predicted = new LinkedHashMap<>();
    for (Outcome o : e.shadow() == null ? List.of(e.primary()) : List.of(e.primary(), e.shadow())) {
      if (o instanceof Outcome.Success s) {
        int[] classes = classes(s.outputs());
        if (classes != null) {
          predicted.put(s.key(), classes);
        }
      }
    }
    if (!predicted.isEmpty()) {
      pending.put(e.requestId(), predicted);
    }
  }

  private static int @Nullable [] classes(Map<String, Tensor> outputs) {
    for (Tensor t : outputs.values()) {
      long[] shape = t.shape();
      if (shape.length < 2 || shape[0] < 1) {
        continue;
      }
      float[] f;
      try {
        f = t.floats();
      } catch (RuntimeException notFloat) {
        continue;
      }
      int rows = (int) shape[0];
      int width = f.length / rows;
      int[] out = new int[rows];
      for (int r = 0; r < rows; r++) {
        int best = r * width;
        for (int i = r * width; i < (r + 1) * width; i++) {
          best = f[i] > f[best] ? i : best;
        }
        out[r] = best - r * width;
      }
      return out;
    }
    return null;
  }

  /** What became of one request's labels. */
  public enum Join {
    /** Joined: every version that ran the request counted its rows. */
    JOINED,
    /** The request is not (or no longer) in the window. */
    UNKNOWN
  }

  /**
   * Joins a request's labels, one per row, with its predictions; a request is joined once.
   *
   * @throws IllegalArgumentException when the label count differs from the request's rows
   */
  public synchronized Join label(String id, int[] labels) {
    Map<ModelKey, int[]> predicted = pending.get(id);
    if (predicted == null) {
      return Join.UNKNOWN;
    }
    int rows = predicted.values().iterator().next().length;
    if (labels.length != rows) {
      throw new IllegalArgumentException(
          "request '" + id + "' had " + rows + " rows, but " + labels.length + " labels came");
    }
    for (int label : labels) {
      if (label < 0) {
        throw new IllegalArgumentException("labels are class indices (0 or more), not " + label);
      }
    }
    pending.remove(id);
    predicted.forEach(
        (key, classes) -> {
          ConfusionMatrix m = confusion.computeIfAbsent(key, k -> new ConfusionMatrix());
          for (int r = 0; r < rows; r++) {
            m.add(labels[r], classes[r]);
          }
        });
    return Join.JOINED;
  }

  /** Per version: labelled rows, accuracy and macro-F1 so far; the window's fill. */
  public synchronized Map<String, Object> summary() {
    Map<String, Object> versions = new LinkedHashMap<>();
    confusion.forEach(
        (key, m) -> {
          Map<String, Object> v = new LinkedHashMap<>();
          v.put("labelled", m.total());
          v.put("accuracy", m.accuracy());
          v.put("macro_f1", m.averages().macroF1());
          versions.put(key.toString(), v);
        });
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("versions", versions);
    out.put("waiting", pending.size());
    out.put("capacity", capacity);
    out.put("expired", expired);
    return out;
  }
}

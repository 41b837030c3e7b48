package io.quantguard.qat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The moments of {@link Optimizer} per trained array, and the update that uses them. Updates run
 * outside any gradient recording, in place, and their temporaries are freed at once.
 */
final class OptimizerState {
  private static final float BETA1 = 0.9f;
  private static final float BETA2 = 0.999f;
  private static final float EPSILON = 1e-8f;
  private static final float MOMENTUM = 0.9f;

  private final Optimizer kind;
  private final NDManager manager;
  // first moment (Adam) or velocity (SGD), and second moment (Adam), by array name
  private final Map<String, NDArray> first = new LinkedHashMap<>();
  private final Map<String, NDArray> second = new LinkedHashMap<>();
  private long updates;

  OptimizerState(Optimizer kind, NDManager manager) {
    this.kind = kind;
    this.manager = manager;
  }

  /** Applies one update with rate {@code rate} to every array and zeroes its gradient. */
  void step(Map<String, NDArray> arrays, float rate) {
    updates++;
    for (Map.Entry<String, NDArray> a : arrays.entrySet()) {
      first.computeIfAbsent(a.getKey(), k -> zeros(a.getValue()));
      if (kind == Optimizer.ADAM) {
        second.computeIfAbsent(a.getKey(), k -> zeros(a.getValue()));
      }
    }
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      for (Map.Entry<String, NDArray> a : arrays.entrySet()) {
        NDArray w = a.getValue();
        NDArray g = w.getGradient();
        NDArray m = Objects.requireNonNull(first.get(a.getKey()));
        if (kind == Optimizer.ADAM) {
          NDArray v = Objects.requireNonNull(second.get(a.getKey()));
          m.muli(BETA1).addi(g.mul(1 - BETA1));
          v.muli(BETA2).addi(g.square().muli(1 - BETA2));
          double c1 = 1 - Math.pow(BETA1, updates);
          double c2 = 1 - Math.pow(BETA2, updates);
          NDArray denominator = v.div((float) c2).sqrt().addi(EPSILON);
          w.subi(m.div(denominator).muli((float) (rate / c1)));
        } else {
          m.muli(MOMENTUM).addi(g);
          w.subi(m.mul(rate));
        }
        g.subi(g);
      }
    }
  }

  private NDArray zeros(NDArray like) {
    NDArray z = manager.zeros(like.getShape(), like.getDataType());
    z.setName(like.getName());
    return z;
  }

  long updates() {
    return updates;
  }

  /** The moments by key ({@code m:NAME}, {@code v:NAME}) for a checkpoint. */
  Map<String, NDArray> moments() {
    Map<String, NDArray> out = new LinkedHashMap<>();
    first.forEach((k, a) -> out.put("m:" + k, a));
    second.forEach((k, a) -> out.put("v:" + k, a));
    return out;
  }

  /** Takes the moments and update count of a checkpoint (copies, owned by this state). */
  void restore(Map<String, NDArray> moments, long updates) {
    this.updates = updates;
    moments.forEach(
        (k, a) -> {
          NDArray copy = a.duplicate();
          copy.attach(manager);
          (k.startsWith("m:") ? first : second).put(k.substring(2), copy);
        });
  }
}

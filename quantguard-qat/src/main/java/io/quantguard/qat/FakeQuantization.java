package io.quantguard.qat;

import ai.djl.ndarray.NDArray;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.quantize.ActivationRanges;
import io.quantguard.quantize.QdqPlan;
import io.quantguard.quantize.QuantParams;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.Scheme;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Fake quantizers with a straight-through estimator, {@code x + (dq(q(x)) − x).stopGradient()}: the
 * forward pass sees the values ONNX Runtime will compute, the gradient passes as if the quantizer
 * were not there.
 *
 * <p>They sit where the static quantizer's {@link QdqPlan} puts its QDQ pairs, the plan the export
 * ({@link io.quantguard.quantize.Quantizer#quantize(io.quantguard.quantize.Calibration,
 * io.quantguard.quantize.Recipe, ActivationRanges, io.quantguard.quantize.Quantizer.Options)})
 * applies too: activations keep the scale and zero point their {@link ActivationRanges} source gave
 * (frozen; the export writes the same ones, {@link #ranges}), weights keep their integer type,
 * symmetry and channel axis and have their scales recomputed from the current values at every step
 * with the static quantizer's min/max maths ({@link Scheme}), so the weights exported after
 * training get the scales the training saw. Biases of Conv and Gemm with a quantized input are
 * rounded as the export stores them, int32 at input scale × weight scale ({@link #bias}).
 *
 * <p>With {@link #learningRanges()} the activation step sizes are trained instead of frozen: LSQ
 * (Esser et al., "Learned Step Size Quantization", ICLR 2020). The graph holds one step size s per
 * group of tensors that share a scale, starting from the calibrated one, and computes
 *
 * <pre>
 *   ŝ = s·g + (s − s·g).stopGradient()             g = 1 / √(N · qmax)
 *   q = clip(round_ste(x / ŝ) + z, qmin, qmax)      x̂ = (q − z) · ŝ
 * </pre>
 *
 * with N the elements of one sample of the tensor and round_ste rounding forward and passing the
 * gradient through. So ∂x̂/∂x is 1 inside the grid and 0 outside, ∂x̂/∂s is g·(round(x/s) − x/s)
 * inside and g·(qmin − z) or g·(qmax − z) outside. The zero point stays the calibrated one (0 after
 * a ReLU, the case LSQ was made for). The trained step sizes go to the export through {@link
 * #withStepSizes}.
 */
public final class FakeQuantization {
  /** How one weight is quantized: its scheme and channel axis (−1 per tensor). */
  public record WeightQuantizer(Scheme scheme, int axis) {}

  private final Map<String, WeightQuantizer> weights;
  private final Map<String, QuantParams> activations;
  // tensor -> the anchor of its group: tensors that share a scale share one learned step size
  private final Map<String, String> anchors;
  private final boolean learnsRanges;

  private FakeQuantization(
      Map<String, WeightQuantizer> weights,
      Map<String, QuantParams> activations,
      Map<String, String> anchors,
      boolean learnsRanges) {
    this.weights = Collections.unmodifiableMap(weights);
    this.activations = Collections.unmodifiableMap(activations);
    this.anchors = Collections.unmodifiableMap(anchors);
    this.learnsRanges = learnsRanges;
  }

  /**
   * The quantizers of {@code plan}, activations with the parameters {@code ranges} gives each group
   * of tensors that share a scale.
   */
  public static FakeQuantization of(QdqPlan plan, ActivationRanges ranges) {
    if (plan.smooths()) {
      throw InvalidInputException.forParameter(
          "smooth",
          null,
          "rewrites the graph that the fake quantizers would be placed in",
          "train the smoothed graph (Quantizer.smoothed), which QuantizationAwareTraining does");
    }
    if (plan.correctsBias()) {
      throw InvalidInputException.forParameter(
          "weights.bias_correction",
          true,
          "changes biases from calibration means after training, which the training never saw",
          "train without it: the fine-tune corrects the biases itself");
    }
    Map<String, WeightQuantizer> weights = new LinkedHashMap<>();
    for (QdqPlan.Weight w : plan.weights()) {
      if (w.method() != Recipe.WeightMethod.MINMAX) {
        throw InvalidInputException.forParameter(
            "weights.method",
            w.method(),
            "is not trained: the fake quantizers take weight ranges by min/max, as the export"
                + " must (weight '"
                + w.initializer()
                + "')",
            "use `weights: {method: minmax}` in the recipe");
      }
      weights.put(w.initializer(), new WeightQuantizer(w.scheme(), w.axis()));
    }
    Map<String, QuantParams> activations = new LinkedHashMap<>();
    Map<String, String> anchors = new LinkedHashMap<>();
    for (QdqPlan.Group g : plan.groups()) {
      QuantParams p = ranges.params(g);
      for (String t : g.members()) {
        activations.put(t, p);
        anchors.put(t, g.anchor());
      }
    }
    return new FakeQuantization(weights, activations, anchors, false);
  }

  /** These quantizers with the activation step sizes trained (LSQ) from their current values. */
  public FakeQuantization learningRanges() {
    return new FakeQuantization(weights, activations, anchors, true);
  }

  /** Whether a graph trains the activation step sizes. */
  public boolean learnsRanges() {
    return learnsRanges;
  }

  /**
   * The step size each group starts from, by the anchor that names the group; the step sizes a
   * graph learns are keyed the same way.
   */
  Map<String, Float> stepSizes() {
    Map<String, Float> steps = new LinkedHashMap<>();
    activations.forEach((t, p) -> steps.putIfAbsent(anchors.get(t), p.scale()[0]));
    return steps;
  }

  /** The group anchor of an activation tensor, or null when it is not quantized. */
  @Nullable String anchor(String tensor) {
    return anchors.get(tensor);
  }

  /**
   * Frozen quantizers with these trained step sizes (by group anchor) and the zero points they
   * trained with: what the export writes.
   */
  FakeQuantization withStepSizes(Map<String, Float> steps) {
    Map<String, QuantParams> learned = new LinkedHashMap<>();
    activations.forEach(
        (t, p) -> {
          Float step = steps.get(anchors.get(t));
          learned.put(
              t,
              step == null
                  ? p
                  : new QuantParams(p.scheme(), new float[] {step}, p.zeroPoint(), p.axis()));
        });
    return new FakeQuantization(weights, learned, anchors, false);
  }

  /** The activation parameters the training used, for the export to write. */
  public ActivationRanges ranges() {
    return ActivationRanges.given(activations);
  }

  public Map<String, WeightQuantizer> weights() {
    return weights;
  }

  public Map<String, QuantParams> activations() {
    return activations;
  }

  boolean quantizesWeight(String name) {
    return weights.containsKey(name);
  }

  /** The weight as its quantizer sees it, scales from its current min/max per channel. */
  NDArray weight(String name, NDArray w) {
    WeightQuantizer q = weights.get(name);
    if (q == null) {
      return w;
    }
    NDArray[] scaleAndZero = scaleAndZero(q, w);
    return straightThrough(w, scaleAndZero[0], scaleAndZero[1], q.scheme());
  }

  /**
   * A bias as the export stores it: int32 at input scale × weight scale (per output channel), so
   * that the coarse input scales of narrow activation grids round it as ONNX Runtime will.
   */
  NDArray bias(String weight, NDArray w, NDArray b, NDArray inputScale) {
    WeightQuantizer q = weights.get(weight);
    if (q == null) {
      return b;
    }
    NDArray scale = scaleAndZero(q, w)[0].reshape(-1).mul(inputScale.stopGradient());
    // int32 does not saturate at these scales: the rewriter raises a weight scale first
    NDArray dq = b.stopGradient().div(scale).round().mul(scale);
    return b.add(dq.sub(b).stopGradient());
  }

  private static NDArray[] scaleAndZero(WeightQuantizer q, NDArray w) {
    Scheme s = q.scheme();
    NDArray lo;
    NDArray hi;
    long[] dims = w.getShape().getShape();
    if (q.axis() >= 0) {
      int axis = q.axis();
      int[] perm = new int[dims.length];
      perm[0] = axis;
      for (int i = 0, k = 1; i < dims.length; i++) {
        if (i != axis) {
          perm[k++] = i;
        }
      }
      // libtorch reduces one axis at a time: bring the channel first and flatten the rest
      NDArray rows = w.stopGradient().transpose(perm).reshape(dims[axis], -1);
      long[] bshape = new long[dims.length];
      java.util.Arrays.fill(bshape, 1);
      bshape[axis] = dims[axis];
      lo = rows.min(new int[] {1}).minimum(0).reshape(bshape);
      hi = rows.max(new int[] {1}).maximum(0).reshape(bshape);
    } else {
      lo = w.stopGradient().min().minimum(0);
      hi = w.stopGradient().max().maximum(0);
    }
    NDArray scale;
    NDArray zero;
    if (s.symmetric()) {
      NDArray m = hi.maximum(lo.neg());
      scale = m.mul(2).div(s.qmax() - s.qmin());
      zero =
          scale.zerosLike().add(s.type().isSigned() ? 0 : Math.rint((s.qmin() + s.qmax()) / 2.0));
    } else {
      scale = hi.sub(lo).div(s.qmax() - s.qmin());
      zero =
          lo.div(scale.maximum(Float.MIN_NORMAL))
              .neg()
              .add(s.qmin())
              .round()
              .clip(s.qmin(), s.qmax());
    }
    // a channel that is all zero: any scale keeps it exact; 1 as the static quantizer does
    scale = scale.add(scale.eq(0).toType(scale.getDataType(), false));
    return new NDArray[] {scale, zero};
  }

  /**
   * The activation with its frozen parameters, or with the learned step size {@code step} when one
   * is given; as it is when not quantized.
   */
  NDArray activation(String name, NDArray x, @Nullable NDArray step) {
    QuantParams p = activations.get(name);
    if (p == null) {
      return x;
    }
    if (step == null) {
      return straightThrough(x, p.scale()[0], p.zeroPoint()[0], p.scheme());
    }
    Scheme s = p.scheme();
    long perSample =
        x.getShape().dimension() == 0 ? 1 : x.size() / Math.max(1, x.getShape().get(0));
    double g = 1 / Math.sqrt((double) perSample * s.qmax());
    NDArray sg = step.mul(g);
    NDArray scale = sg.add(step.sub(sg).stopGradient());
    NDArray v = x.div(scale);
    NDArray rounded = v.add(v.round().sub(v).stopGradient());
    int z = p.zeroPoint()[0];
    return rounded.add(z).clip(s.qmin(), s.qmax()).sub(z).mul(scale);
  }

  private static NDArray straightThrough(NDArray x, NDArray scale, NDArray zero, Scheme s) {
    NDArray q = x.stopGradient().div(scale).round().add(zero).clip(s.qmin(), s.qmax());
    NDArray dq = q.sub(zero).mul(scale);
    return x.add(dq.sub(x).stopGradient());
  }

  private static NDArray straightThrough(NDArray x, float scale, int zero, Scheme s) {
    NDArray q = x.stopGradient().div(scale).round().add(zero).clip(s.qmin(), s.qmax());
    NDArray dq = q.sub(zero).mul(scale);
    return x.add(dq.sub(x).stopGradient());
  }
}

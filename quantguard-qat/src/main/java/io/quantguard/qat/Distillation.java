package io.quantguard.qat;

import ai.djl.ndarray.NDArray;
import io.quantguard.onnx.InvalidInputException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * How a quantized student is pulled towards its FP32 teacher when the data has no labels. Logits
 * want the KL divergence of their softmax; an encoder's token states want the quality its users
 * measure: the cosine of the sentence embeddings (token states mean-pooled over the attention mask,
 * as the embedding task pools them), or the squared error of the outputs. Chosen intermediate
 * tensors (block outputs) can be matched too, by squared error relative to the teacher's own
 * energy, so that every block gets a direct signal instead of one through the whole network.
 *
 * @param loss what the output loss compares
 * @param mask the graph input that masks padding when pooling token states (cosine only), or null
 *     to compare along the last axis without pooling
 * @param intermediates tensors inside the graph matched as well
 * @param intermediateWeight the weight of the intermediates' mean loss against the output's
 */
public record Distillation(
    Loss loss, @Nullable String mask, List<String> intermediates, float intermediateWeight) {

  /** What the output loss compares. */
  public enum Loss {
    /** KL divergence of the softmax over the last axis (temperature 1): logits. */
    KL,
    /** Mean squared error of the outputs. */
    MSE,
    /** One minus the cosine along the last axis, after pooling over the mask when one is named. */
    COSINE;

    /** Parses {@code kl}, {@code mse} or {@code cosine}. */
    public static Loss parse(String s) {
      try {
        return valueOf(s.strip().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw InvalidInputException.forParameter(
            "distillation loss", s, "is not known", "use kl, mse or cosine");
      }
    }
  }

  public Distillation {
    intermediates = List.copyOf(intermediates);
    if (mask != null && loss != Loss.COSINE) {
      throw InvalidInputException.forParameter(
          "distillation mask", mask, "pools token states only for the cosine loss", null);
    }
    if (!(intermediateWeight >= 0) || Float.isInfinite(intermediateWeight)) {
      throw InvalidInputException.forParameter(
          "distillation intermediate weight", intermediateWeight, "must be 0 or more", null);
    }
  }

  /** KL divergence of the output softmax: the default, for logits. */
  public static Distillation kl() {
    return new Distillation(Loss.KL, null, List.of(), 0);
  }

  /** Cosine of sentence embeddings: token states mean-pooled over the {@code mask} input. */
  public static Distillation pooledCosine(String mask) {
    return new Distillation(Loss.COSINE, mask, List.of(), 0);
  }

  /** The same, also matching {@code tensors} with weight {@code weight}. */
  public Distillation withIntermediates(List<String> tensors, float weight) {
    return new Distillation(loss, mask, tensors, weight);
  }

  /** The tensors both graphs must produce: the output first, then the intermediates. */
  List<String> tensors(String output) {
    List<String> all = new ArrayList<>();
    all.add(output);
    intermediates.stream().filter(t -> !t.equals(output)).forEach(all::add);
    return all;
  }

  /** The loss of {@code student} against {@code teacher} (gradients stopped) on one batch. */
  NDArray apply(
      Map<String, NDArray> student,
      Map<String, NDArray> teacher,
      Map<String, NDArray> inputs,
      String output) {
    NDArray s = Objects.requireNonNull(student.get(output));
    NDArray t = Objects.requireNonNull(teacher.get(output)).stopGradient();
    NDArray loss =
        switch (this.loss) {
          case KL -> kl(s, t);
          case MSE -> s.sub(t).square().mean();
          case COSINE -> cosine(pool(s, inputs), pool(t, inputs));
        };
    if (intermediates.isEmpty() || intermediateWeight == 0) {
      return loss;
    }
    NDArray inner = loss.zerosLike();
    for (String name : intermediates) {
      NDArray ti = Objects.requireNonNull(teacher.get(name)).stopGradient();
      NDArray si = Objects.requireNonNull(student.get(name));
      inner = inner.add(si.sub(ti).square().mean().div(ti.square().mean().add(1e-12f)));
    }
    return loss.add(inner.div(intermediates.size()).mul(intermediateWeight));
  }

  private static NDArray kl(NDArray s, NDArray t) {
    int axis = s.getShape().dimension() - 1;
    NDArray logP = t.logSoftmax(axis);
    return logP.exp().mul(logP.sub(s.logSoftmax(axis))).sum(new int[] {axis}).mean();
  }

  private static NDArray cosine(NDArray a, NDArray b) {
    int axis = a.getShape().dimension() - 1;
    NDArray dot = a.mul(b).sum(new int[] {axis});
    NDArray norms = a.norm(new int[] {axis}).mul(b.norm(new int[] {axis})).add(1e-12f);
    return dot.div(norms).neg().add(1f).mean();
  }

  /** Mean of [batch, sequence, hidden] token states over the unmasked positions. */
  private NDArray pool(NDArray states, Map<String, NDArray> inputs) {
    if (mask == null) {
      return states;
    }
    NDArray m = inputs.get(mask);
    if (m == null || states.getShape().dimension() != 3) {
      throw InvalidInputException.forParameter(
          "distillation mask",
          mask,
          m == null
              ? "is not an input of the batch"
              : "pools [batch, sequence, hidden] token states, but the output has shape "
                  + states.getShape(),
          "name the attention-mask input of a model whose output is token states");
    }
    NDArray w = m.toType(states.getDataType(), false).expandDims(2);
    return states.mul(w).sum(new int[] {1}).div(w.sum(new int[] {1}).maximum(1e-9f));
  }
}

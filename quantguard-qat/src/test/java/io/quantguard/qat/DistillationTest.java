package io.quantguard.qat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.quantguard.onnx.InvalidInputException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The distillation losses on hand-made tensors: the pooled cosine reads only the unmasked tokens
 * and is the sentence-embedding cosine, the KL loss is the KL divergence of the softmax, and
 * matched intermediates add their relative squared error with their weight.
 */
class DistillationTest {
  private static final NDManager manager = NDManager.newBaseManager();

  @AfterAll
  static void close() {
    manager.close();
  }

  /** [2 sequences, 3 tokens, 2 hidden]; the second sequence's last token is padding. */
  private static NDArray states(float... values) {
    return manager.create(values, new Shape(2, 3, 2));
  }

  private static final Map<String, NDArray> MASK =
      Map.of("attention_mask", manager.create(new long[] {1, 1, 1, 1, 1, 0}, new Shape(2, 3)));

  @Test
  void pooledCosineIsTheSentenceEmbeddingCosineAndIgnoresPadding() {
    Distillation d = Distillation.pooledCosine("attention_mask");
    NDArray teacher = states(1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0);
    // the padded position differs wildly: the loss must not see it
    NDArray sameButPadding = states(1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 50, -50);
    assertThat(loss(d, sameButPadding, teacher)).isCloseTo(0, within(1e-6));
    // first sequence pooled (1, 1)/3·... against (1, 0): cosine 1/√2; second identical
    NDArray student = states(1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 7, 7);
    double expected = ((1 - 1 / Math.sqrt(2)) + 0) / 2;
    assertThat(loss(d, student, teacher)).isCloseTo(expected, within(1e-5));
  }

  @Test
  void klIsTheDivergenceOfTheSoftmax() {
    NDArray t = manager.create(new float[] {2, 0}, new Shape(1, 2));
    NDArray s = manager.create(new float[] {0, 0}, new Shape(1, 2));
    double p = Math.exp(2) / (Math.exp(2) + 1);
    double expected = p * Math.log(p / 0.5) + (1 - p) * Math.log((1 - p) / 0.5);
    assertThat(loss(Distillation.kl(), s, t)).isCloseTo(expected, within(1e-5));
    assertThat(loss(Distillation.kl(), t, t)).isCloseTo(0, within(1e-6));
  }

  @Test
  void matchedIntermediatesAddTheirRelativeErrorWithTheirWeight() {
    Distillation d =
        new Distillation(Distillation.Loss.MSE, null, List.of(), 0)
            .withIntermediates(List.of("block"), 0.5f);
    NDArray out = manager.create(new float[] {1, 2}, new Shape(1, 2));
    NDArray tBlock = manager.create(new float[] {2, 2}, new Shape(1, 2));
    NDArray sBlock = manager.create(new float[] {2, 0}, new Shape(1, 2));
    // output equal: only the block counts, mean((0, 2)²) / mean((2, 2)²) = 2 / 4, times 0.5
    double l =
        d.apply(Map.of("y", out, "block", sBlock), Map.of("y", out, "block", tBlock), Map.of(), "y")
            .getFloat();
    assertThat(l).isCloseTo(0.25, within(1e-6));
    assertThat(d.tensors("y")).containsExactly("y", "block");
  }

  @Test
  void refusesWhatCannotWork() {
    assertThatThrownBy(() -> Distillation.Loss.parse("hinge"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("kl, mse or cosine");
    assertThatThrownBy(() -> new Distillation(Distillation.Loss.KL, "attention_mask", List.of(), 0))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("only for the cosine loss");
    NDArray logits = manager.create(new float[] {1, 2}, new Shape(1, 2));
    assertThatThrownBy(() -> loss(Distillation.pooledCosine("attention_mask"), logits, logits))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("[batch, sequence, hidden]");
  }

  private static double loss(Distillation d, NDArray student, NDArray teacher) {
    return d.apply(Map.of("y", student), Map.of("y", teacher), MASK, "y").getFloat();
  }
}

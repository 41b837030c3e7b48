package io.quantguard.evaluate.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.PairedMetrics;
import io.quantguard.evaluate.Task;
import io.quantguard.evaluate.Tasks;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.report.TaskResult;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ClassificationTaskTest {
  private static final int C = 4;

  private static Batch batch(long[] labels, long offset) {
    return new Batch(
        Map.of("x", Tensor.ofFloats(new float[labels.length], labels.length, 1)),
        labels,
        List.of(),
        offset);
  }

  private static Map<String, Tensor> logits(int n, long seed) {
    Random r = new Random(seed);
    float[] z = new float[n * C];
    for (int i = 0; i < z.length; i++) {
      z[i] = (float) r.nextGaussian();
    }
    return Map.of("logits", Tensor.ofFloats(z, n, C));
  }

  private static long[] labels(int n, long seed) {
    Random r = new Random(seed);
    long[] y = new long[n];
    for (int i = 0; i < n; i++) {
      y[i] = r.nextInt(C);
    }
    return y;
  }

  @Test
  void mergedAccumulatorsGiveTheSameResultAsOne() throws Exception {
    Task<?> task = Tasks.parse("classification?k=2");
    Batch b1 = batch(labels(300, 1), 0);
    Batch b2 = batch(labels(200, 2), 300);
    var base1 = logits(300, 3);
    var base2 = logits(200, 4);
    var cand1 = logits(300, 5);
    var cand2 = logits(200, 6);
    TaskResult one =
        TaskScoring.score(task, List.of(b1, b2), List.of(base1, base2), List.of(cand1, cand2));
    TaskResult merged = mergeOf(task, b1, b2, base1, base2, cand1, cand2);
    ObjectMapper json = new ObjectMapper();
    assertThat(json.writeValueAsString(merged)).isEqualTo(json.writeValueAsString(one));
    assertThat(one.metric("top2_accuracy")).isPresent();
    assertThat(one.samples()).isEqualTo(500);
  }

  private static <P> TaskResult mergeOf(
      Task<P> task,
      Batch b1,
      Batch b2,
      Map<String, Tensor> base1,
      Map<String, Tensor> base2,
      Map<String, Tensor> cand1,
      Map<String, Tensor> cand2) {
    PairedMetrics<P> a = TaskScoring.add(task, task.newMetrics(), b1, base1, cand1);
    PairedMetrics<P> b = TaskScoring.add(task, task.newMetrics(), b2, base2, cand2);
    a.merge(b);
    return a.result(Bootstrap.defaults());
  }

  @Test
  void predictsArgMaxTopKAndSoftmaxConfidence() {
    ClassificationTask t = (ClassificationTask) Tasks.parse("classification?k=2");
    float[] z = {0, 2, 1, 0, /* row 2 */ 5, 5, 0, 0};
    ClassPredictions p =
        t.predict(batch(new long[] {1, 0}, 0), Map.of("logits", Tensor.ofFloats(z, 2, C)));
    assertThat(p.top1()).containsExactly(1, 0);
    assertThat(p.topK()).containsExactly(1, 2, 0, 1);
    double e = Math.exp(2);
    assertThat(p.confidence()[0]).isCloseTo((float) (e / (e + Math.E + 2)), within(1e-6f));
    assertThat(p.confidence()[1]).isCloseTo((float) (1 / (2 + 2 * Math.exp(-5))), within(1e-6f));
  }

  @Test
  void flipsSplitByTheBaselinesMarginBetweenItsTopTwoProbabilities() {
    // Probabilities as scores, so the margins are exact: 100 samples, of which 10 flip where the
    // baseline nearly tied (margin 0.04), 5 flip where it was sure (margin 0.6), 85 agree.
    int n = 100;
    float[] base = new float[n * C];
    float[] cand = new float[n * C];
    for (int i = 0; i < n; i++) {
      boolean nearTie = i < 10;
      float[] b =
          nearTie ? new float[] {0.5f, 0.46f, 0.02f, 0.02f} : new float[] {0.7f, 0.1f, 0.1f, 0.1f};
      System.arraycopy(b, 0, base, i * C, C);
      boolean flips = i < 15;
      float[] c = flips ? new float[] {0.4f, 0.5f, 0.05f, 0.05f} : b;
      System.arraycopy(c, 0, cand, i * C, C);
    }
    Task<?> task = Tasks.parse("classification?scores=probabilities&margin=0.1");
    TaskResult r =
        TaskScoring.score(
            task,
            List.of(batch(new long[n], 0)),
            List.of(Map.of("p", Tensor.ofFloats(base, n, C))),
            List.of(Map.of("p", Tensor.ofFloats(cand, n, C))));
    assertThat(r.metric("flip_rate").orElseThrow().value()).isCloseTo(0.15, within(1e-12));
    assertThat(r.metric("low_margin_flip_rate").orElseThrow().value())
        .isCloseTo(0.10, within(1e-12));
    assertThat(r.metric("confident_flip_rate").orElseThrow().value())
        .isCloseTo(0.05, within(1e-12));
    assertThat(r.figures()).containsEntry("low_margin_threshold", 0.1);
    TaskResult strict =
        TaskScoring.score(
            Tasks.parse("classification?scores=probabilities&margin=0.01"),
            List.of(batch(new long[n], 0)),
            List.of(Map.of("p", Tensor.ofFloats(base, n, C))),
            List.of(Map.of("p", Tensor.ofFloats(cand, n, C))));
    assertThat(strict.metric("confident_flip_rate").orElseThrow().value())
        .as("with a threshold below 0.04 no baseline prediction is a near tie")
        .isCloseTo(0.15, within(1e-12));
  }

  @Test
  void theMarginOfLogitsIsTheDifferenceOfTheirSoftmaxProbabilities() {
    ClassificationTask t = (ClassificationTask) Tasks.parse("classification");
    float[] z = {0, 2, 1, 0};
    ClassPredictions p =
        t.predict(batch(new long[] {1}, 0), Map.of("logits", Tensor.ofFloats(z, 1, C)));
    double sum = Math.exp(2) + Math.E + 2;
    assertThat(p.margin()[0]).isCloseTo((float) ((Math.exp(2) - Math.E) / sum), within(1e-6f));
  }

  @Test
  void aMarginThresholdOutsideZeroToOneIsRefused() {
    assertThatThrownBy(() -> Tasks.parse("classification?margin=1.5"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("margin=1.5")
        .hasMessageContaining("[0, 1]");
  }

  @Test
  void withoutLabelsOnlyFlipsAreMeasured() {
    Task<?> task = Tasks.parse("classification");
    Batch unlabeled =
        new Batch(Map.of("x", Tensor.ofFloats(new float[50], 50, 1)), null, List.of(), 0);
    TaskResult r =
        TaskScoring.score(task, List.of(unlabeled), List.of(logits(50, 1)), List.of(logits(50, 2)));
    assertThat(r.metrics())
        .extracting(m -> m.name())
        .containsExactly("flip_rate", "low_margin_flip_rate", "confident_flip_rate");
    assertThat(r.metrics().get(0).value()).isGreaterThan(0.3);
    assertThat(r.classification().mcnemar()).isNull();
  }

  @Test
  void labelsBeyondTheModelsClassesAreBadInput() {
    Task<?> task = Tasks.parse("classification");
    Batch b = batch(new long[] {0, 7}, 0);
    assertThatThrownBy(
            () -> TaskScoring.score(task, List.of(b), List.of(logits(2, 1)), List.of(logits(2, 2))))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("label 7")
        .hasMessageContaining("4 classes");
  }
}

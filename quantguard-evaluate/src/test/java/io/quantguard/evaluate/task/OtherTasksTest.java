package io.quantguard.evaluate.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.quantguard.evaluate.Task;
import io.quantguard.evaluate.Tasks;
import io.quantguard.onnx.TestModels;
import io.quantguard.report.MetricEstimate;
import io.quantguard.report.TaskResult;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** QA, regression, raw tensors and embeddings on synthetic outputs with hand-checked scores. */
class OtherTasksTest {
  @Test
  void extractiveQaPicksTheBestSpanAndScoresItLikeSquad() {
    String tokenizer = TestModels.miniLmTokenizer().toString();
    WordPieceDecoder vocab = new WordPieceDecoder(TestModels.miniLmTokenizer());
    String[] tokens =
        "[CLS] where is the tower [SEP] the tower is in paris france . [SEP]".split(" ");
    int len = tokens.length;
    long[] ids = new long[len];
    long[] types = new long[len];
    for (int i = 0; i < len; i++) {
      ids[i] = vocab.id(tokens[i]);
      assertThat(ids[i]).as(tokens[i]).isNotNegative();
      types[i] = i > 5 ? 1 : 0;
    }
    long[] mask = new long[len];
    Arrays.fill(mask, 1);
    Batch batch =
        new Batch(
            Map.of(
                "input_ids", Tensor.ofLongs(ids, 1, len),
                "attention_mask", Tensor.ofLongs(mask, 1, len),
                "token_type_ids", Tensor.ofLongs(types, 1, len)),
            null,
            List.of(Map.of("answers", "Paris|in Paris")),
            0);
    int paris = 10;
    int france = 11;
    // A question token (position 1) has the highest start logit but is not context: never picked.
    float[] start = new float[len];
    start[1] = 9;
    start[paris] = 5;
    float[] endBase = new float[len];
    endBase[paris] = 5;
    endBase[france] = 1;
    float[] endCand = new float[len];
    endCand[paris] = 1;
    endCand[france] = 5;
    Task<?> qa = Tasks.parse("qa?tokenizer=" + tokenizer);
    TaskResult r =
        TaskScoring.score(
            qa, List.of(batch), List.of(logits(start, endBase)), List.of(logits(start, endCand)));
    MetricEstimate em = r.metric("exact_match").orElseThrow();
    assertThat(em.baseline()).isEqualTo(1.0);
    assertThat(em.value()).isZero();
    // "paris france" vs the best gold "paris": P = 1/2, R = 1 → F1 = 2/3
    assertThat(r.metric("f1").orElseThrow().value()).isCloseTo(2.0 / 3, within(1e-6));
    assertThat(r.metric("agreement_exact_match").orElseThrow().value()).isZero();
  }

  private static Map<String, Tensor> logits(float[] start, float[] end) {
    return Map.of(
        "start_logits", Tensor.ofFloats(start, 1, start.length),
        "end_logits", Tensor.ofFloats(end, 1, end.length));
  }

  @Test
  void regressionScoresMaeAndRmse() {
    Batch b =
        new Batch(
            Map.of("x", Tensor.ofFloats(new float[3], 3, 1)),
            null,
            List.of(Map.of("target", "1"), Map.of("target", "2"), Map.of("target", "3")),
            0);
    Task<?> task = Tasks.parse("regression");
    TaskResult r =
        TaskScoring.score(
            task,
            List.of(b),
            List.of(Map.of("y", Tensor.ofFloats(new float[] {1, 2, 3}, 3, 1))),
            List.of(Map.of("y", Tensor.ofFloats(new float[] {2, 2, 1}, 3, 1))));
    assertThat(r.metric("mae").orElseThrow().value()).isCloseTo(1.0, within(1e-9));
    assertThat(r.metric("mae").orElseThrow().baseline()).isZero();
    assertThat(r.metric("rmse").orElseThrow().value()).isCloseTo(Math.sqrt(5.0 / 3), within(1e-6));
    assertThat(r.metric("mean_abs_diff").orElseThrow().value()).isCloseTo(1.0, within(1e-9));
  }

  @Test
  void rawTensorsAndEmbeddingsMeasureAgreement() {
    Batch b =
        new Batch(
            Map.of(
                "x", Tensor.ofFloats(new float[2], 2, 1),
                "attention_mask", Tensor.ofLongs(new long[] {1, 1, 1, 0}, 2, 2)),
            null,
            List.of(),
            0);
    // [2 samples, 2 tokens, 2 dims]; sample 2's second token is padding.
    float[] h = {1, 0, 1, 0, /* */ 0, 1, 5, 5};
    float[] g = {1, 0, 1, 0, /* */ 0, 1, -5, 9};
    Map<String, Tensor> base = Map.of("last_hidden_state", Tensor.ofFloats(h, 2, 2, 2));
    Map<String, Tensor> cand = Map.of("last_hidden_state", Tensor.ofFloats(g, 2, 2, 2));
    TaskResult emb =
        TaskScoring.score(Tasks.parse("embedding"), List.of(b), List.of(base), List.of(cand));
    assertThat(emb.metric("cosine_mean").orElseThrow().value())
        .as("masked mean pooling ignores the padded token")
        .isCloseTo(1.0, within(1e-9));
    TaskResult cls =
        TaskScoring.score(
            Tasks.parse("embedding?pooling=cls"), List.of(b), List.of(base), List.of(cand));
    assertThat(cls.metric("cosine_mean").orElseThrow().value()).isCloseTo(1.0, within(1e-9));
    TaskResult raw =
        TaskScoring.score(Tasks.parse("raw"), List.of(b), List.of(base), List.of(cand));
    assertThat(raw.figures().get("max_abs_error")).isEqualTo(10.0);
    // signal 1+1+0+1+25+25 = 53, noise 100+16 = 116
    assertThat(raw.metric("sqnr_db").orElseThrow().value())
        .isCloseTo(10 * Math.log10(53.0 / 116), within(1e-4));
    double cos2 = (0 * 0 + 1 * 1 + 5 * -5 + 5 * 9) / (Math.sqrt(51) * Math.sqrt(107));
    assertThat(raw.metric("cosine_mean").orElseThrow().value())
        .isCloseTo((1 + cos2) / 2, within(1e-6));
  }
}

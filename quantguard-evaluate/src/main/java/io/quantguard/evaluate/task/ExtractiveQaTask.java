package io.quantguard.evaluate.task;

import io.quantguard.evaluate.PairedMetrics;
import io.quantguard.evaluate.Task;
import io.quantguard.evaluate.TaskOptions;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.ResourceLocator;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Extractive question answering (SQuAD-style): start and end logits [batch, tokens] → the span s ≤
 * e &lt; s + max_answer_tokens maximizing start[s] + end[e] over context tokens (attention mask 1,
 * token type 1 where the row has a second segment, never position 0), as the BERT reference
 * implementation picks answers. The answer text is the span's tokens decoded with {@code
 * tokenizer=} (WordPiece), or the span's token ids joined by spaces without one. Gold answers come
 * from the sample attribute {@code answers} ({@code |}-separated texts) or the token positions
 * {@code answer_start}/{@code answer_end}; answers are scored by {@link
 * io.quantguard.evaluate.SquadScore}. Options: {@code start=start_logits}, {@code end=end_logits},
 * {@code max_answer_tokens=30}, {@code tokenizer=}.
 */
final class ExtractiveQaTask implements Task<Spans> {
  private final String start;
  private final String end;
  private final int maxAnswer;
  private final @Nullable WordPieceDecoder decoder;

  ExtractiveQaTask(TaskOptions o) {
    this.start = o.string("start", "start_logits");
    this.end = o.string("end", "end_logits");
    this.maxAnswer = o.integer("max_answer_tokens", 30, 1);
    String tok = o.string("tokenizer");
    this.decoder = tok == null ? null : new WordPieceDecoder(ResourceLocator.resolve(tok));
  }

  @Override
  public String name() {
    return "qa";
  }

  @Override
  public List<String> outputs(String model, List<String> modelOutputs) {
    for (String o : List.of(start, end)) {
      if (!modelOutputs.contains(o)) {
        throw new InvalidInputException(
            model,
            "has no output '" + o + "' for extractive QA (outputs: " + modelOutputs + ")",
            "name the logits with ?start=NAME&end=NAME");
      }
    }
    return List.of(start, end);
  }

  @Override
  public Spans predict(Batch batch, Map<String, Tensor> outputs) {
    Tensor s = Outputs.get(outputs, start);
    Tensor e = Outputs.get(outputs, end);
    float[] sl = Outputs.matrix(s, start, "start logits [batch, tokens]");
    float[] el = Outputs.matrix(e, end, "end logits [batch, tokens]");
    int n = s.batchSize();
    int len = (int) s.shape()[1];
    boolean[] allowed = contextTokens(batch, n, len);
    int[] bs = new int[n];
    int[] be = new int[n];
    String[] text = new String[n];
    for (int r = 0; r < n; r++) {
      double best = Double.NEGATIVE_INFINITY;
      for (int i = 1; i < len; i++) {
        if (!allowed[r * len + i]) {
          continue;
        }
        for (int j = i; j < Math.min(len, i + maxAnswer); j++) {
          double score = sl[r * len + i] + el[r * len + j];
          if (allowed[r * len + j] && score > best) {
            best = score;
            bs[r] = i;
            be[r] = j;
          }
        }
      }
      text[r] = best == Double.NEGATIVE_INFINITY ? "" : text(batch, r, len, bs[r], be[r]);
    }
    return new Spans(bs, be, text);
  }

  /** Text of tokens [from, to] of row r. */
  String text(Batch batch, int r, int len, int from, int to) {
    Tensor ids = batch.inputs().get("input_ids");
    if (ids == null) {
      return from + ".." + to;
    }
    long[] row = new long[len];
    for (int i = 0; i < len; i++) {
      row[i] = (long) ids.get(r * len + i);
    }
    if (decoder != null) {
      return decoder.decode(row, from, to + 1);
    }
    StringBuilder b = new StringBuilder();
    for (int i = from; i <= to; i++) {
      b.append(i == from ? "" : " ").append(row[i]);
    }
    return b.toString();
  }

  private static boolean[] contextTokens(Batch batch, int n, int len) {
    boolean[] ok = new boolean[n * len];
    Arrays.fill(ok, true);
    Tensor mask = batch.inputs().get("attention_mask");
    Tensor types = batch.inputs().get("token_type_ids");
    for (int r = 0; r < n; r++) {
      boolean twoSegments = false;
      if (types != null && types.elementCount() == (long) n * len) {
        for (int i = 0; i < len; i++) {
          twoSegments |= types.get(r * len + i) == 1;
        }
      }
      for (int i = 0; i < len; i++) {
        int at = r * len + i;
        if (mask != null && mask.elementCount() == (long) n * len && mask.get(at) == 0) {
          ok[at] = false;
        }
        if (twoSegments && types != null && types.get(at) != 1) {
          ok[at] = false;
        }
      }
    }
    return ok;
  }

  @Override
  public PairedMetrics<Spans> newMetrics() {
    return new QaMetrics(this);
  }
}

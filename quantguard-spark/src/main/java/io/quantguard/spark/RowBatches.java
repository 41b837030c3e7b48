package io.quantguard.spark;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.quantguard.onnx.ExternalData;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.spark.sql.Row;
import org.jspecify.annotations.Nullable;
import scala.Tuple2;

/**
 * Rows with their global index, in index order, as {@link Batch}es that start at multiples of the
 * batch size by global index: the batches a local pass over the same data makes, whichever
 * partition the rows are in. Number columns become tensors of their sample shape; a text column is
 * tokenized per batch (as the {@code text:} data spec does, with the attributes {@code text},
 * {@code tokens} and {@code truncated}); a label column gives the labels (null reads as unlabeled,
 * -1); attribute columns give per-sample attributes (their values as text; slicers read them).
 */
final class RowBatches implements Iterator<Batch> {
  private final Iterator<Tuple2<Long, Row>> rows;
  private final List<TensorColumn> columns;
  private final @Nullable TextColumn text;
  private final @Nullable HuggingFaceTokenizer tokenizer;
  private final int batchSize;
  private final @Nullable String labelColumn;
  private final List<String> attributeColumns;
  private @Nullable Tuple2<Long, Row> next;

  /**
   * @param tokenizer the open tokenizer of {@code text} (null without a text column); the caller
   *     closes it
   */
  RowBatches(
      Iterator<Tuple2<Long, Row>> rows,
      List<TensorColumn> columns,
      @Nullable TextColumn text,
      @Nullable HuggingFaceTokenizer tokenizer,
      int batchSize,
      @Nullable String labelColumn,
      List<String> attributeColumns) {
    if ((text == null) != (tokenizer == null)) {
      throw new IllegalArgumentException("a text column needs its open tokenizer, and only it");
    }
    this.rows = rows;
    this.columns = columns;
    this.text = text;
    this.tokenizer = tokenizer;
    this.batchSize = batchSize;
    this.labelColumn = labelColumn;
    this.attributeColumns = List.copyOf(attributeColumns);
    this.next = rows.hasNext() ? rows.next() : null;
  }

  @Override
  public boolean hasNext() {
    return next != null;
  }

  @Override
  public Batch next() {
    if (next == null) {
      throw new NoSuchElementException();
    }
    long first = next._1();
    long batch = first / batchSize;
    List<Row> rowsOfBatch = new ArrayList<>();
    long expected = first;
    while (next != null && next._1() / batchSize == batch) {
      if (next._1() != expected) {
        throw new IllegalStateException(
            "row " + expected + " is missing from its batch (rows must come in index order)");
      }
      rowsOfBatch.add(next._2());
      expected++;
      next = rows.hasNext() ? rows.next() : null;
    }
    int n = rowsOfBatch.size();
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    for (TensorColumn col : columns) {
      float[] v = new float[n * col.elements()];
      for (int r = 0; r < n; r++) {
        read(rowsOfBatch.get(r), col, v, r);
      }
      long[] sample = col.shape();
      long[] shape = new long[sample.length + 1];
      shape[0] = n;
      System.arraycopy(sample, 0, shape, 1, sample.length);
      inputs.put(col.input(), Tensor.ofFloats(v, shape));
    }
    List<Map<String, String>> attributes = new ArrayList<>();
    if (text != null || !attributeColumns.isEmpty()) {
      for (int r = 0; r < n; r++) {
        attributes.add(new LinkedHashMap<>());
      }
    }
    TextColumn t = text;
    HuggingFaceTokenizer tok = tokenizer;
    if (t != null && tok != null) {
      tokenize(t, tok, rowsOfBatch, inputs, attributes);
    }
    for (int r = 0; r < n && !attributeColumns.isEmpty(); r++) {
      Row row = rowsOfBatch.get(r);
      for (String col : attributeColumns) {
        Object v = row.get(row.fieldIndex(col));
        if (v != null) {
          attributes.get(r).put(col, v.toString());
        }
      }
    }
    long[] labels = null;
    if (labelColumn != null) {
      labels = new long[n];
      for (int r = 0; r < n; r++) {
        Row row = rowsOfBatch.get(r);
        int at = row.fieldIndex(labelColumn);
        labels[r] = row.isNullAt(at) ? -1 : ((Number) row.get(at)).longValue();
      }
    }
    Batch b = Batch.unlabelled(inputs, attributes, first);
    return labels == null ? b : b.withLabels(labels);
  }

  /** The text column's tokens, as {@code text:} sources make them. */
  private static void tokenize(
      TextColumn text,
      HuggingFaceTokenizer tokenizer,
      List<Row> batch,
      Map<String, Tensor> inputs,
      List<Map<String, String>> attributes) {
    List<String> texts = new ArrayList<>();
    for (Row row : batch) {
      int i = row.fieldIndex(text.column());
      if (row.isNullAt(i) || row.getString(i).isBlank()) {
        throw new IllegalArgumentException(
            "column '" + text.column() + "' holds no text in a row; drop such rows first");
      }
      texts.add(row.getString(i));
    }
    Encoding[] enc = tokenizer.batchEncode(texts);
    int len = enc[0].getIds().length;
    int n = enc.length;
    long[] ids = new long[n * len];
    long[] mask = new long[n * len];
    long[] types = new long[n * len];
    for (int i = 0; i < n; i++) {
      System.arraycopy(enc[i].getIds(), 0, ids, i * len, len);
      System.arraycopy(enc[i].getAttentionMask(), 0, mask, i * len, len);
      System.arraycopy(enc[i].getTypeIds(), 0, types, i * len, len);
      long tokens = 0;
      for (long m : enc[i].getAttentionMask()) {
        tokens += m;
      }
      Map<String, String> a = attributes.get(i);
      a.put("text", texts.get(i));
      a.put("tokens", Long.toString(tokens));
      a.put("truncated", Boolean.toString(enc[i].exceedMaxLength()));
    }
    inputs.put("input_ids", Tensor.ofLongs(ids, n, len));
    inputs.put("attention_mask", Tensor.ofLongs(mask, n, len));
    inputs.put("token_type_ids", Tensor.ofLongs(types, n, len));
  }

  private static void read(Row row, TensorColumn col, float[] into, int sample) {
    int i = row.fieldIndex(col.column());
    if (row.isNullAt(i)) {
      throw new IllegalArgumentException("column '" + col.column() + "' is null in a row");
    }
    int n = col.elements();
    if (row.get(i) instanceof byte[] bytes) {
      float[] v = tensorProto(bytes, col);
      if (v.length != n) {
        throw wrongLength(col, "a tensor of " + v.length, n);
      }
      System.arraycopy(v, 0, into, sample * n, n);
      return;
    }
    List<Object> list = row.getList(i);
    if (list.size() != n) {
      throw wrongLength(col, String.valueOf(list.size()), n);
    }
    int at = sample * n;
    for (Object o : list) {
      into[at++] = ((Number) o).floatValue();
    }
  }

  /** A row whose column holds {@code holds} values where the input's sample shape needs n. */
  private static IllegalArgumentException wrongLength(TensorColumn col, String holds, int n) {
    return new IllegalArgumentException(
        "column '"
            + col.column()
            + "' holds "
            + holds
            + " values in a row; input '"
            + col.input()
            + "' of sample shape "
            + Arrays.toString(col.shape())
            + " needs "
            + n);
  }

  /** One sample's values from a serialized ONNX {@code TensorProto}, converted to float. */
  private static float[] tensorProto(byte[] bytes, TensorColumn col) {
    try {
      return TensorCodec.toFloats(TensorProto.parseFrom(bytes), ExternalData.NONE);
    } catch (IOException | IllegalArgumentException | ArithmeticException e) {
      throw new IllegalArgumentException(
          "column '"
              + col.column()
              + "' holds bytes that are not a serialized ONNX TensorProto ("
              + e.getMessage()
              + "); write each sample with onnx.numpy_helper.from_array(a).SerializeToString()",
          e);
    }
  }
}

package io.quantguard.spark;

import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.spark.sql.Row;
import scala.Tuple2;

/**
 * Rows with their global index, in index order, as {@link Batch}es that start at multiples of the
 * batch size by global index: the batches a local pass over the same data makes, whichever
 * partition the rows are in. A label column gives the batch's labels (null reads as unlabeled, -1),
 * attribute columns its per-sample attributes (their values as text; slicers read them).
 */
final class RowBatches implements Iterator<Batch> {
  private final Iterator<Tuple2<Long, Row>> rows;
  private final List<TensorColumn> columns;
  private final int batchSize;
  private final String labelColumn;
  private final List<String> attributeColumns;
  private Tuple2<Long, Row> next;

  RowBatches(Iterator<Tuple2<Long, Row>> rows, List<TensorColumn> columns, int batchSize) {
    this(rows, columns, batchSize, null, List.of());
  }

  RowBatches(
      Iterator<Tuple2<Long, Row>> rows,
      List<TensorColumn> columns,
      int batchSize,
      String labelColumn,
      List<String> attributeColumns) {
    this.rows = rows;
    this.columns = columns;
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
    float[][] values = new float[columns.size()][];
    for (int c = 0; c < columns.size(); c++) {
      values[c] = new float[batchSize * columns.get(c).elements()];
    }
    long[] labels = labelColumn == null ? null : new long[batchSize];
    List<Map<String, String>> attributes = new java.util.ArrayList<>();
    int n = 0;
    long expected = first;
    while (next != null && next._1() / batchSize == batch) {
      if (next._1() != expected) {
        throw new IllegalStateException(
            "row " + expected + " is missing from its batch (rows must come in index order)");
      }
      Row row = next._2();
      for (int c = 0; c < columns.size(); c++) {
        read(row, columns.get(c), values[c], n);
      }
      if (labels != null) {
        int at = row.fieldIndex(labelColumn);
        labels[n] = row.isNullAt(at) ? -1 : ((Number) row.get(at)).longValue();
      }
      if (!attributeColumns.isEmpty()) {
        Map<String, String> a = new LinkedHashMap<>();
        for (String col : attributeColumns) {
          Object v = row.get(row.fieldIndex(col));
          if (v != null) {
            a.put(col, v.toString());
          }
        }
        attributes.add(a);
      }
      n++;
      expected++;
      next = rows.hasNext() ? rows.next() : null;
    }
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    for (int c = 0; c < columns.size(); c++) {
      TensorColumn col = columns.get(c);
      long[] sample = col.shape();
      long[] shape = new long[sample.length + 1];
      shape[0] = n;
      System.arraycopy(sample, 0, shape, 1, sample.length);
      float[] v = values[c];
      if (n < batchSize) {
        v = java.util.Arrays.copyOf(v, n * col.elements());
      }
      inputs.put(col.input(), Tensor.ofFloats(v, shape));
    }
    return new Batch(
        inputs,
        labels == null || n == batchSize ? labels : java.util.Arrays.copyOf(labels, n),
        attributes,
        first);
  }

  private static void read(Row row, TensorColumn col, float[] into, int sample) {
    int i = row.fieldIndex(col.column());
    if (row.isNullAt(i)) {
      throw new IllegalArgumentException("column '" + col.column() + "' is null in a row");
    }
    List<Object> list = row.getList(i);
    int n = col.elements();
    if (list.size() != n) {
      throw new IllegalArgumentException(
          "column '"
              + col.column()
              + "' holds "
              + list.size()
              + " values in a row; input '"
              + col.input()
              + "' of sample shape "
              + java.util.Arrays.toString(col.shape())
              + " needs "
              + n);
    }
    int at = sample * n;
    for (Object o : list) {
      into[at++] = ((Number) o).floatValue();
    }
  }
}

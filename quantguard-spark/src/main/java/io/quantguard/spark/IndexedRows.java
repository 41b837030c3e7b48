package io.quantguard.spark;

import java.util.Comparator;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.jspecify.annotations.Nullable;
import scala.Tuple2;

/**
 * Rows with their global index (an index column, or else the data set's order by {@code
 * zipWithIndex}), regrouped into partitions of whole units of consecutive indices and sorted by
 * index within each: every partition then sees the whole batches (and fingerprint blocks) a local
 * pass over the same rows makes, which is what calibration and evaluation need to give its answer.
 */
final class IndexedRows {
  private IndexedRows() {}

  /**
   * @param unit rows per unit (a multiple of the batch size); a unit lands whole in one partition
   * @param limit rows from this index on are dropped
   */
  static JavaRDD<Tuple2<Long, Row>> regroup(
      Dataset<Row> data, @Nullable String indexColumn, int partitions, long unit, long limit) {
    if (indexColumn != null) {
      // Spark SQL shuffles and sorts the rows in its binary form, far cheaper than Java-serialized
      // Rows of boxed numbers.
      String column = indexColumn;
      Column index = data.col(column);
      Dataset<Row> kept = limit == Long.MAX_VALUE ? data : data.where(index.lt(limit));
      return kept.repartition(partitions, functions.floor(index.divide(unit)))
          .sortWithinPartitions(index)
          .toJavaRDD()
          .map(r -> new Tuple2<>(((Number) r.getAs(column)).longValue(), r));
    }
    return data.toJavaRDD()
        .zipWithIndex()
        .filter(t -> t._2() < limit)
        .mapToPair(t -> new Tuple2<>(t._2(), t._1()))
        .repartitionAndSortWithinPartitions(
            new UnitPartitioner(partitions, unit), Comparator.<Long>naturalOrder())
        .map(t -> t);
  }

  /** Unit {@code k} of consecutive rows (by global index) goes to partition {@code k mod n}. */
  static final class UnitPartitioner extends Partitioner {
    private static final long serialVersionUID = 1L;
    private final int partitions;
    private final long unit;

    UnitPartitioner(int partitions, long unit) {
      this.partitions = partitions;
      this.unit = unit;
    }

    @Override
    public int numPartitions() {
      return partitions;
    }

    @Override
    public int getPartition(Object key) {
      return (int) Math.floorMod((Long) key / unit, (long) partitions);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof UnitPartitioner p && p.partitions == partitions && p.unit == unit;
    }

    @Override
    public int hashCode() {
      return Long.hashCode(unit) * 31 + partitions;
    }
  }
}

package io.quantguard.spark;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The 70,000 Fashion-MNIST images (training set, then test set) repeated and augmented to any
 * number of rows: row i is image i mod 70,000, shifted by up to one pixel in each direction and
 * mirrored left to right as variant ⌊i / 70,000⌋ says (variant 0 is the image as it is; 18
 * variants, so up to 1,260,000 rows are all different transforms). Written as Parquet ({@code
 * pixels} array of floats in [0, 1], {@code label}, {@code index}) or, for the single-machine path,
 * as a slice in IDX files with the same bytes.
 */
final class AugmentedFashionMnist implements Serializable {
  private static final long serialVersionUID = 1L;

  static final int IMAGES = 70_000;
  static final int PIXELS = 28 * 28;

  private final byte[] pixels;
  private final byte[] labels;

  private AugmentedFashionMnist(byte[] pixels, byte[] labels) {
    this.pixels = pixels;
    this.labels = labels;
  }

  /** Reads the four IDX files of {@code dir} ({@code train-*} and {@code t10k-*}). */
  static AugmentedFashionMnist read(Path dir) throws IOException {
    byte[] px = new byte[IMAGES * PIXELS];
    byte[] lb = new byte[IMAGES];
    int at = 0;
    for (String set : new String[] {"train", "t10k"}) {
      byte[] images = body(dir.resolve(set + "-images-idx3-ubyte.gz"), 16);
      byte[] labels = body(dir.resolve(set + "-labels-idx1-ubyte.gz"), 8);
      System.arraycopy(images, 0, px, at * PIXELS, images.length);
      System.arraycopy(labels, 0, lb, at, labels.length);
      at += labels.length;
    }
    if (at != IMAGES) {
      throw new IOException(dir + " holds " + at + " images, not " + IMAGES);
    }
    return new AugmentedFashionMnist(px, lb);
  }

  private static byte[] body(Path gz, int header) throws IOException {
    try (InputStream in = new GZIPInputStream(Files.newInputStream(gz), 1 << 16)) {
      in.readNBytes(header);
      return in.readAllBytes();
    }
  }

  int label(long row) {
    return labels[(int) (row % IMAGES)];
  }

  /** The bytes of row {@code row}'s image into {@code out} (28 × 28, row-major). */
  void image(long row, byte[] out) {
    int src = (int) (row % IMAGES) * PIXELS;
    int variant = (int) (row / IMAGES) % 18;
    int dx = variant % 3 - (variant % 3 == 2 ? 3 : 0); // 0, 1, -1
    int dy = (variant / 3) % 3 - ((variant / 3) % 3 == 2 ? 3 : 0);
    boolean mirror = variant >= 9;
    for (int y = 0; y < 28; y++) {
      for (int x = 0; x < 28; x++) {
        int sx = (mirror ? 27 - x : x) - dx;
        int sy = y - dy;
        out[y * 28 + x] = sx < 0 || sx > 27 || sy < 0 || sy > 27 ? 0 : pixels[src + sy * 28 + sx];
      }
    }
  }

  /** Writes rows {@code [0, rows)} as Parquet in {@code files} files (ordered by index). */
  void writeParquet(SparkSession spark, long rows, int files, Path out) {
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<AugmentedFashionMnist> source = sc.broadcast(this);
    StructType schema =
        new StructType()
            .add("pixels", DataTypes.createArrayType(DataTypes.FloatType, false), false)
            .add("label", DataTypes.LongType, false)
            .add("index", DataTypes.LongType, false);
    List<long[]> ranges = new ArrayList<>();
    for (int f = 0; f < files; f++) {
      ranges.add(new long[] {rows * f / files, rows * (f + 1) / files});
    }
    FlatMapFunction<long[], Row> rowsOf =
        range ->
            new Iterator<>() {
              private long next = range[0];
              private final byte[] image = new byte[PIXELS];

              @Override
              public boolean hasNext() {
                return next < range[1];
              }

              @Override
              public Row next() {
                AugmentedFashionMnist s = source.value();
                s.image(next, image);
                float[] v = new float[PIXELS];
                for (int i = 0; i < PIXELS; i++) {
                  v[i] = (image[i] & 0xff) / 255f;
                }
                Row r = RowFactory.create(v, (long) s.label(next), next);
                next++;
                return r;
              }
            };
    spark
        .createDataFrame(sc.parallelize(ranges, files).flatMap(rowsOf), schema)
        .write()
        .mode(SaveMode.Overwrite)
        .parquet(out.toString());
  }

  /**
   * Writes rows {@code [from, from + count)} as gzip IDX files {@code NAME-images-idx3-ubyte.gz}
   * and {@code NAME-labels-idx1-ubyte.gz} in {@code dir}; returns the images file.
   */
  Path writeIdx(long from, int count, Path dir, String name) throws IOException {
    Path images = dir.resolve(name + "-images-idx3-ubyte.gz");
    Path labelsFile = dir.resolve(name + "-labels-idx1-ubyte.gz");
    try (DataOutputStream img = gzip(images);
        DataOutputStream lab = gzip(labelsFile)) {
      img.writeInt(0x00000803);
      img.writeInt(count);
      img.writeInt(28);
      img.writeInt(28);
      lab.writeInt(0x00000801);
      lab.writeInt(count);
      byte[] image = new byte[PIXELS];
      for (long r = from; r < from + count; r++) {
        image(r, image);
        img.write(image);
        lab.writeByte(label(r));
      }
    }
    return images;
  }

  private static DataOutputStream gzip(Path p) throws IOException {
    OutputStream out = new GZIPOutputStream(Files.newOutputStream(p), 1 << 16);
    return new DataOutputStream(out);
  }

  /** Whether an IDX file's header says it holds {@code count} items. */
  static boolean holds(Path idx, int count) {
    if (!Files.isRegularFile(idx)) {
      return false;
    }
    try (DataInputStream in = new DataInputStream(new GZIPInputStream(Files.newInputStream(idx)))) {
      in.readInt();
      return in.readInt() == count;
    } catch (IOException e) {
      return false;
    }
  }
}

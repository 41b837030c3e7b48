package io.quantguard.runtime.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.TestModels;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataSpecTest {
  @TempDir Path tmp;

  static List<Batch> readAll(DataSource s, int batch) {
    List<Batch> out = new ArrayList<>();
    try (BatchStream b = s.open(batch)) {
      b.forEachRemaining(out::add);
    }
    return out;
  }

  @Test
  void readsFashionMnistWithLabelsAndRunsTheCnnAccurately() {
    Path images = TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz");
    DataSource s = DataSpec.parse("idx:" + images + "?limit=1000&input=image");
    assertThat(s.size()).hasValue(1000);
    assertThat(s.hasLabels()).isTrue();
    int correct = 0;
    int seen = 0;
    try (InferenceSession session =
            InferenceSession.open(TestModels.fashionCnn(), SessionConfig.defaults());
        BatchStream b = s.open(128)) {
      while (b.hasNext()) {
        Batch batch = b.next();
        Tensor x = batch.inputs().get("image");
        assertThat(x.shape()[1]).isEqualTo(1);
        for (float v : x.floats()) {
          assertThat(v).isBetween(0f, 1f);
        }
        float[] logits = session.run(batch.inputs()).get("logits").floats();
        for (int i = 0; i < batch.size(); i++) {
          int best = 0;
          for (int c = 1; c < 10; c++) {
            if (logits[i * 10 + c] > logits[i * 10 + best]) {
              best = c;
            }
          }
          correct += best == batch.labels()[i] ? 1 : 0;
        }
        seen += batch.size();
      }
    }
    assertThat(seen).isEqualTo(1000);
    // The fixture README gives 0.9254 on all 10,000; the first 1,000 land close to it.
    assertThat(correct / 1000.0).isBetween(0.90, 0.96);
  }

  @Test
  void offsetAndLimitSelectTheSameSamplesWhateverTheBatchSize() {
    Path images = TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz");
    DataSource a = DataSpec.parse("idx:" + images + "?offset=10&limit=25");
    DataSource b = DataSpec.parse("idx:" + images + "?limit=35");
    float[] fromA =
        Tensor.concat(readAll(a, 7).stream().map(x -> x.inputs().get("input_0")).toList()).floats();
    float[] fromB =
        Tensor.concat(readAll(b, 35).stream().map(x -> x.inputs().get("input_0")).toList())
            .slice(10, 35)
            .floats();
    assertThat(fromA).containsExactly(fromB);
    List<Batch> batches = readAll(a, 7);
    assertThat(batches).extracting(Batch::size).containsExactly(7, 7, 7, 4);
    assertThat(batches.get(1).offset()).isEqualTo(7);
  }

  @Test
  void appliesDeclaredPreprocessingAndLayout() {
    Path images = TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz");
    Tensor plain =
        readAll(DataSpec.parse("idx:" + images + "?limit=2"), 2).get(0).inputs().get("input_0");
    Tensor norm =
        readAll(DataSpec.parse("idx:" + images + "?limit=2&mean=0.286&std=0.353&layout=nhwc"), 2)
            .get(0)
            .inputs()
            .get("input_0");
    assertThat(norm.shape()).containsExactly(2, 28, 28, 1);
    assertThat(norm.floats()[300])
        .isCloseTo(
            (plain.floats()[300] - 0.286f) / 0.353f, org.assertj.core.data.Offset.offset(1e-5f));
    Tensor flat =
        readAll(DataSpec.parse("idx:" + images + "?limit=2&layout=flat"), 2)
            .get(0)
            .inputs()
            .get("input_0");
    assertThat(flat.shape()).containsExactly(2, 784);
  }

  @Test
  void readsNpyDirectoriesAndNpzArchives() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("npy"));
    float[] x = new float[5 * 3];
    for (int i = 0; i < x.length; i++) {
      x[i] = i * 0.5f;
    }
    Files.write(dir.resolve("features.npy"), npyFloat(x, 5, 3));
    Files.write(dir.resolve("labels.npy"), npyLong(new long[] {0, 1, 2, 1, 0}, 5));
    DataSource s = DataSpec.parse("npy:" + dir);
    assertThat(s.hasLabels()).isTrue();
    List<Batch> b = readAll(s, 2);
    assertThat(b).extracting(Batch::size).containsExactly(2, 2, 1);
    assertThat(b.get(1).inputs().get("features").floats())
        .containsExactly(3f, 3.5f, 4f, 4.5f, 5f, 5.5f);
    assertThat(b.get(2).labels()).containsExactly(0);

    Path npz = tmp.resolve("data.npz");
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(npz))) {
      z.putNextEntry(new ZipEntry("input_ids.npy"));
      z.write(npyLong(new long[] {101, 2, 102, 101, 3, 102}, 2, 3));
      z.closeEntry();
    }
    Tensor ids = readAll(DataSpec.parse("npz:" + npz), 8).get(0).inputs().get("input_ids");
    assertThat(ids.type()).isEqualTo(DataType.INT64);
    assertThat(ids.shape()).containsExactly(2, 3);
  }

  @Test
  void readsOnnxTestDataSetsAndStacksThem() throws IOException {
    for (int set = 0; set < 3; set++) {
      Path d = Files.createDirectories(tmp.resolve("pb").resolve("test_data_set_" + set));
      float[] img = new float[784];
      img[0] = set;
      Files.write(
          d.resolve("input_0.pb"),
          TensorCodec.fromFloats("image", new long[] {1, 1, 28, 28}, img).toByteArray());
    }
    DataSource s = DataSpec.parse("pb:" + tmp.resolve("pb"));
    List<Batch> b = readAll(s, 2);
    assertThat(b).extracting(Batch::size).containsExactly(2, 1);
    assertThat(b.get(0).inputs().get("image").floats()[784]).isEqualTo(1f);
    assertThat(b.get(1).attributes().get(0)).containsEntry("file", "test_data_set_2");
    try (InferenceSession session =
        InferenceSession.open(TestModels.fashionCnn(), SessionConfig.defaults())) {
      assertThat(session.run(b.get(0).inputs()).get("logits").shape()).containsExactly(2, 10);
    }
  }

  /** ONNX's model tests store a matrix product's operands as input_0.pb and input_1.pb. */
  @Test
  void readsSetsOfSeveralInputsThatShareNoFirstAxis() throws IOException {
    for (int set = 0; set < 2; set++) {
      Path d = Files.createDirectories(tmp.resolve("mm/test_data_set_" + set));
      Files.write(
          d.resolve("input_0.pb"),
          TensorCodec.fromFloats("", new long[] {2, 3}, new float[6]).toByteArray());
      Files.write(
          d.resolve("input_1.pb"),
          TensorCodec.fromFloats("", new long[] {3, 4}, new float[12]).toByteArray());
    }
    List<Batch> b = readAll(DataSpec.parse("pb:" + tmp.resolve("mm")), 32);
    assertThat(b).hasSize(2);
    assertThat(b.get(0).size()).isEqualTo(1);
    assertThat(b.get(0).inputs().get("input_0").shape()).containsExactly(2, 3);
    assertThat(b.get(0).inputs().get("input_1").shape()).containsExactly(3, 4);
    DataFingerprint f = new DataFingerprint();
    b.forEach(f::add);
    assertThat(f.hex()).hasSize(64);
  }

  @Test
  void setsOfSeveralInputsWithACommonFirstAxisAreStacked() throws IOException {
    for (int set = 0; set < 3; set++) {
      Path d = Files.createDirectories(tmp.resolve("two/test_data_set_" + set));
      Files.write(
          d.resolve("input_0.pb"),
          TensorCodec.fromFloats("a", new long[] {1, 2}, new float[] {set, set}).toByteArray());
      Files.write(
          d.resolve("input_1.pb"),
          TensorCodec.fromLongs("b", new long[] {1}, new long[] {set}).toByteArray());
    }
    List<Batch> b = readAll(DataSpec.parse("pb:" + tmp.resolve("two")), 2);
    assertThat(b).extracting(Batch::size).containsExactly(2, 1);
    assertThat(b.get(0).inputs().get("b").longs()).containsExactly(0, 1);
    assertThat(b.get(1).inputs().get("a").floats()).containsExactly(2f, 2f);
  }

  @Test
  void tokenizesTextForBert() throws IOException {
    Path corpus =
        Files.writeString(
            tmp.resolve("c.txt"), "Hello world.\n\nQuantization keeps models small and fast.\n");
    DataSource s =
        DataSpec.parse(
            "text:" + corpus + "?tokenizer=" + TestModels.miniLmTokenizer() + "&max_length=8");
    Batch b = readAll(s, 4).get(0);
    assertThat(b.size()).isEqualTo(2);
    long[] ids = b.inputs().get("input_ids").longs();
    long[] mask = b.inputs().get("attention_mask").longs();
    assertThat(b.inputs().get("input_ids").shape()).containsExactly(2, 8);
    assertThat(ids[0]).isEqualTo(101); // [CLS]
    assertThat(ids[8 + 7]).isEqualTo(102); // truncated second line ends with [SEP]
    assertThat(mask[7]).isZero(); // first line is padded
    assertThat(b.attributes().get(1)).containsEntry("truncated", "true");
    try (InferenceSession session =
        InferenceSession.open(TestModels.miniLm(), SessionConfig.defaults())) {
      assertThat(session.run(b.inputs()).get("last_hidden_state").shape())
          .containsExactly(2, 8, 384);
    }
  }

  @Test
  void offsetsInsideTextBatchesKeepFullBatchesOfPaddedSequences() throws IOException {
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < 20; i++) {
      lines
          .append("sentence number ")
          .append(i)
          .append(" has ")
          .append("word ".repeat(i))
          .append('\n');
    }
    Path corpus = Files.writeString(tmp.resolve("lines.txt"), lines.toString());
    String spec = "text:" + corpus + "?tokenizer=" + TestModels.miniLmTokenizer();
    List<Batch> all = readAll(DataSpec.parse(spec), 20);
    List<Batch> shifted = readAll(DataSpec.parse(spec + "&offset=3&limit=10"), 4);
    assertThat(shifted).extracting(Batch::size).containsExactly(4, 4, 2);
    long[] ids = shifted.get(0).inputs().get("input_ids").longs();
    long len = shifted.get(0).inputs().get("input_ids").shape()[1];
    long fullLen = all.get(0).inputs().get("input_ids").shape()[1];
    // Sample 3 of the whole stream is the first sample of the shifted one, token for token.
    for (int t = 0; t < Math.min(len, fullLen); t++) {
      assertThat(ids[t])
          .isEqualTo(all.get(0).inputs().get("input_ids").longs()[(int) (3 * fullLen + t)]);
    }
  }

  @Test
  void matchKeepsTheTextsThatContainTheRegexBeforeOffsetAndLimitCount() throws IOException {
    Path tsv =
        Files.writeString(
            tmp.resolve("langs.tsv"),
            "a\t1\tthe vote on the report\n"
                + "b\t2\tla votación del informe\n"
                + "c\t3\tthe debate is closed\n"
                + "d\t4\tdie Abstimmung\n"
                + "e\t5\tthe sitting is open\n");
    String spec = "text:" + tsv + "?tokenizer=" + TestModels.miniLmTokenizer() + "&column=3";
    List<Batch> english = readAll(DataSpec.parse(spec + "&match=\\bthe\\b&offset=1"), 8);
    assertThat(english.get(0).attributes())
        .extracting(a -> a.get("text"))
        .containsExactly("the debate is closed", "the sitting is open");
    assertThat(readAll(DataSpec.parse(spec + "&match=^(?!the)"), 8).get(0).size()).isEqualTo(2);
    assertThatThrownBy(() -> DataSpec.parse(spec + "&match=(the"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("match=(the is not a regular expression");
  }

  @Test
  void readsJsonlFieldsAndTsvColumnsWithLabels() throws IOException {
    Path jsonl =
        Files.writeString(
            tmp.resolve("d.jsonl"),
            "{\"text\":\"good\",\"y\":\"pos\"}\n{\"text\":\"bad\",\"y\":\"neg\"}\n{\"text\":\"fine\",\"y\":\"pos\"}\n");
    Batch b =
        readAll(
                DataSpec.parse(
                    "text:"
                        + jsonl
                        + "?tokenizer="
                        + TestModels.miniLmTokenizer()
                        + "&label_field=y"),
                8)
            .get(0);
    assertThat(b.labels()).containsExactly(0, 1, 0);
    Path tsv =
        Files.writeString(tmp.resolve("d.tsv"), "t1\t2020\tfirst body\nt2\t2021\tsecond body\n");
    Batch c =
        readAll(
                DataSpec.parse(
                    "text:" + tsv + "?tokenizer=" + TestModels.miniLmTokenizer() + "&column=3"),
                8)
            .get(0);
    assertThat(c.attributes().get(1)).containsEntry("text", "second body");
  }

  @Test
  void readsADatasetYaml() throws IOException {
    Path images = TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz");
    Path yaml =
        Files.writeString(
            tmp.resolve("ds.yaml"),
            "format: idx\npath: " + images + "\ninput: image\nlimit: 3\nmean: [0.5]\n");
    Batch b = readAll(DataSpec.parse("@" + yaml), 10).get(0);
    assertThat(b.size()).isEqualTo(3);
    assertThat(b.inputs()).containsOnlyKeys("image");
  }

  /** Corrupt headers the fuzz test found: sizes that overflow are refused, not allocated. */
  @Test
  void headersDeclaringImpossibleSizesAreRefused() throws IOException {
    ByteBuffer idx = ByteBuffer.allocate(16 + 8).order(ByteOrder.BIG_ENDIAN);
    idx.putInt(0x00000803).putInt(2).putInt(65536).putInt(65536);
    Path images = Files.write(tmp.resolve("huge.idx"), idx.array());
    assertThatThrownBy(() -> readAll(DataSpec.parse("idx:" + images + "?input=image"), 4))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("more than 64 MiB");
    byte[] npy = npyFloat(new float[4], 2, 2);
    String header = new String(npy, StandardCharsets.ISO_8859_1);
    int at = header.indexOf("(2, 2,");
    String bad = header.substring(0, at) + "(2, x," + header.substring(at + 6);
    Path f = Files.write(tmp.resolve("bad.npy"), bad.getBytes(StandardCharsets.ISO_8859_1));
    assertThatThrownBy(() -> readAll(DataSpec.parse("npy:" + f), 1))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("unreadable shape");
  }

  @Test
  void rejectsNanUnknownOptionsAndMissingFiles() throws IOException {
    float[] x = {1f, 2f, Float.NaN, 4f};
    Path f = Files.write(tmp.resolve("x.npy"), npyFloat(x, 2, 2));
    assertThatThrownBy(() -> readAll(DataSpec.parse("npy:" + f), 1))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("sample 1")
        .hasMessageContaining("NaN");
    assertThatThrownBy(() -> DataSpec.parse("npy:" + f + "?limt=3"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("unknown option(s) [limt]");
    assertThatThrownBy(() -> DataSpec.parse("idx:/no/such/file.gz"))
        .hasMessageContaining("file not found");
    assertThatThrownBy(() -> DataSpec.parse("csv:x"))
        .hasMessageContaining("unknown data format 'csv'");
    Path notIdx = Files.writeString(tmp.resolve("bad.idx"), "hello world, not idx");
    assertThatThrownBy(() -> DataSpec.parse("idx:" + notIdx))
        .hasMessageContaining("is not an IDX file");
  }

  static byte[] npyFloat(float[] v, long... shape) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    return npy("<f4", shape, b.array());
  }

  static byte[] npyLong(long[] v, long... shape) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    b.asLongBuffer().put(v);
    return npy("<i8", shape, b.array());
  }

  private static byte[] npy(String descr, long[] shape, byte[] data) {
    StringBuilder dims = new StringBuilder();
    for (long d : shape) {
      dims.append(d).append(", ");
    }
    String header =
        "{'descr': '"
            + descr
            + "', 'fortran_order': False, 'shape': ("
            + dims.toString().trim()
            + "), }";
    int total = 10 + header.length() + 1;
    int pad = (64 - total % 64) % 64;
    header = header + " ".repeat(pad) + "\n";
    try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
      OutputStream o = out;
      o.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
      o.write(header.length() & 0xff);
      o.write(header.length() >> 8);
      o.write(header.getBytes(StandardCharsets.US_ASCII));
      o.write(data);
      return out.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}

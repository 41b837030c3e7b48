package io.quantguard.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.proto.Onnx.ModelProto;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelIOTest {
  @TempDir Path tmp;

  private static void assertSameOutputs(Path a, Path b, Map<String, Object> inputs)
      throws Exception {
    Map<String, int[]> x = OrtOutputs.run(a, inputs);
    Map<String, int[]> y = OrtOutputs.run(b, inputs);
    assertThat(y.keySet()).isEqualTo(x.keySet());
    for (String k : x.keySet()) {
      assertThat(Arrays.equals(x.get(k), y.get(k))).as("output %s bitwise identical", k).isTrue();
    }
  }

  @Test
  void roundTripsTheCnnBitwise() throws Exception {
    Path src = TestModels.fashionCnn();
    Path out = tmp.resolve("cnn.onnx");
    ModelIO.save(ModelIO.load(src), out);
    assertSameOutputs(src, out, OrtOutputs.cnnInputs(1));
  }

  @Test
  void roundTripsMiniLmBitwise() throws Exception {
    Path src = TestModels.miniLm();
    Path out = tmp.resolve("minilm.onnx");
    ModelIO.save(ModelIO.load(src), out);
    assertSameOutputs(src, out, OrtOutputs.bertInputs(2));
  }

  @Test
  void roundTripsQuantizedMiniLmBitwise() throws Exception {
    Path src = TestModels.miniLmQuantized();
    Path out = tmp.resolve("minilm-q.onnx");
    ModelIO.save(ModelIO.load(src), out);
    assertSameOutputs(src, out, OrtOutputs.bertInputs(3));
  }

  @Test
  void savedModelsAreReadableByOthersLikeAnyFileWrittenInPlace() throws Exception {
    Path out = tmp.resolve("shared.onnx");
    ModelIO.save(ModelIO.load(TestModels.fashionCnn()), out);
    assertThat(
            java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(out)))
        .isEqualTo("rw-r--r--");
  }

  @Test
  void savingTwiceGivesIdenticalBytes() throws Exception {
    OnnxModel m = ModelIO.load(TestModels.fashionCnn());
    ModelIO.save(m, tmp.resolve("a.onnx"));
    ModelIO.save(ModelIO.load(tmp.resolve("a.onnx")), tmp.resolve("b.onnx"));
    assertThat(Files.readAllBytes(tmp.resolve("b.onnx")))
        .isEqualTo(Files.readAllBytes(tmp.resolve("a.onnx")));
  }

  @Test
  void movesWeightsToExternalDataAndBack() throws Exception {
    Path src = TestModels.fashionCnn();
    Path ext = tmp.resolve("ext").resolve("cnn.onnx");
    ModelIO.save(ModelIO.load(src), ext, ModelIO.SaveOptions.external(1024));
    Path data = ext.resolveSibling("cnn.onnx.data");
    assertThat(data).exists();
    assertThat(Files.size(ext)).isLessThan(20_000);
    assertThat(Files.size(data)).isGreaterThan(1_600_000);
    OnnxModel loaded = ModelIO.load(ext);
    assertThat(ModelSummary.of(loaded).externalDataFiles()).containsExactly("cnn.onnx.data");
    assertSameOutputs(src, ext, OrtOutputs.cnnInputs(4));

    Path back = tmp.resolve("inline.onnx");
    ModelIO.save(loaded, back);
    assertThat(ModelSummary.of(ModelIO.load(back)).externalDataFiles()).isEmpty();
    assertSameOutputs(src, back, OrtOutputs.cnnInputs(5));
  }

  @Test
  void namesAMissingOrTruncatedExternalDataFile() throws Exception {
    Path ext = tmp.resolve("cnn.onnx");
    ModelIO.save(ModelIO.load(TestModels.fashionCnn()), ext, ModelIO.SaveOptions.external(1024));
    Path data = ext.resolveSibling("cnn.onnx.data");
    try (RandomAccessFile f = new RandomAccessFile(data.toFile(), "rw")) {
      f.setLength(f.length() / 2);
    }
    assertThatThrownBy(() -> ModelIO.load(ext))
        .isInstanceOf(InvalidModelException.class)
        .hasMessageContaining(ext.toString())
        .hasMessageContaining("truncated");
    Files.delete(data);
    assertThatThrownBy(() -> ModelIO.load(ext))
        .isInstanceOf(InvalidModelException.class)
        .hasMessageContaining("cnn.onnx.data")
        .hasMessageContaining("missing");
  }

  @Test
  void rejectsEmptyTruncatedAndForeignFiles() throws Exception {
    Path empty = Files.createFile(tmp.resolve("empty.onnx"));
    assertThatThrownBy(() -> ModelIO.load(empty))
        .isInstanceOf(InvalidModelException.class)
        .hasMessageContaining("is empty");

    byte[] cnn = Files.readAllBytes(TestModels.fashionCnn());
    Path truncated = Files.write(tmp.resolve("truncated.onnx"), Arrays.copyOf(cnn, cnn.length / 3));
    assertThatThrownBy(() -> ModelIO.load(truncated))
        .isInstanceOf(InvalidModelException.class)
        .hasMessageContaining("truncated.onnx");

    Path text = Files.writeString(tmp.resolve("readme.onnx"), "this is not a model\n");
    assertThatThrownBy(() -> ModelIO.load(text))
        .isInstanceOf(InvalidModelException.class)
        .hasMessageContaining("readme.onnx");

    assertThatThrownBy(() -> ModelIO.load(tmp.resolve("nope.onnx")))
        .hasMessageContaining("file not found");
  }

  @Test
  void rejectsAModelWhoseNodeReadsAnUndefinedTensor() {
    ModelProto m = ModelIO.load(TestModels.fashionCnn()).toProto();
    ModelProto.Builder b = m.toBuilder();
    int victim = 0;
    while (b.getGraph().getNode(victim).getInputCount() == 0) {
      victim++;
    }
    b.getGraphBuilder().getNodeBuilder(victim).setInput(0, "does_not_exist");
    assertThatThrownBy(() -> ModelIO.load(b.build().toByteArray(), "edited.onnx"))
        .isInstanceOf(InvalidModelException.class)
        .hasMessageContaining("edited.onnx")
        .hasMessageContaining("does_not_exist");
  }

  @Test
  void handlesModelsWhoseWeightsExceedTwoGigabytes() throws Exception {
    // Three 800 MB tensors in a sparse external file: loading must not read them, and saving
    // must stream them into a new external data file instead of one >2 GiB protobuf message.
    long elements = 200_000_000L;
    Path dir = Files.createDirectories(tmp.resolve("big"));
    try (RandomAccessFile f = new RandomAccessFile(dir.resolve("w.bin").toFile(), "rw")) {
      f.setLength(3 * elements * 4);
    }
    var g = io.quantguard.onnx.proto.Onnx.GraphProto.newBuilder().setName("big");
    for (int i = 0; i < 3; i++) {
      g.addInitializer(
          io.quantguard.onnx.proto.Onnx.TensorProto.newBuilder()
              .setName("w" + i)
              .setDataType(DataType.FLOAT.code())
              .addDims(elements)
              .setDataLocation(io.quantguard.onnx.proto.Onnx.TensorProto.DataLocation.EXTERNAL)
              .addExternalData(entry("location", "w.bin"))
              .addExternalData(entry("offset", Long.toString(i * elements * 4)))
              .addExternalData(entry("length", Long.toString(elements * 4))));
      g.addOutput(TensorType.of(DataType.FLOAT, elements).toValueInfo("w" + i));
    }
    ModelProto proto =
        ModelProto.newBuilder()
            .setIrVersion(8)
            .addOpsetImport(
                io.quantguard.onnx.proto.Onnx.OperatorSetIdProto.newBuilder().setVersion(17))
            .setGraph(g)
            .build();
    Files.write(dir.resolve("big.onnx"), proto.toByteArray());

    OnnxModel big = ModelIO.load(dir.resolve("big.onnx"));
    assertThat(ModelSummary.of(big).parameterBytes()).isEqualTo(3 * elements * 4);
    Path out = tmp.resolve("copy").resolve("big.onnx");
    ModelIO.save(big, out);
    assertThat(Files.size(out.resolveSibling("big.onnx.data")))
        .isGreaterThanOrEqualTo(3 * elements * 4);
    OnnxModel copy = ModelIO.load(out);
    assertThat(ModelSummary.of(copy).externalDataBytes()).isEqualTo(3 * elements * 4);
    Files.delete(out.resolveSibling("big.onnx.data"));
  }

  private static io.quantguard.onnx.proto.Onnx.StringStringEntryProto entry(String k, String v) {
    return io.quantguard.onnx.proto.Onnx.StringStringEntryProto.newBuilder()
        .setKey(k)
        .setValue(v)
        .build();
  }
}

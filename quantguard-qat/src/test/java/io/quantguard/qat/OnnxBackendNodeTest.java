package io.quantguard.qat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import io.quantguard.onnx.ExternalData;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import io.quantguard.onnx.proto.Onnx.ValueInfoProto;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * ONNX's own backend test cases (Debian's {@code libonnx-testdata}, folder {@code node/}): every
 * case whose operators the engine covers runs and must give ONNX's expected outputs within the
 * backend tests' tolerance (relative 1e-3, absolute 1e-7; integers and booleans exactly). A case
 * that uses an attribute or element type the engine refuses, with its clear error, is skipped with
 * that message; a wrong number fails.
 */
class OnnxBackendNodeTest {
  private static final Path NODE = Path.of("/usr/share/libonnx-testdata/data/node");

  @TestFactory
  Stream<DynamicTest> coveredOperatorsGiveOnnxsExpectedOutputs() throws IOException {
    assumeTrue(
        Files.isDirectory(NODE),
        NODE + " is missing (apt-get install libonnx-testdata); the backend cases are skipped");
    List<DynamicTest> tests = new ArrayList<>();
    try (Stream<Path> dirs = Files.list(NODE)) {
      for (Path dir : dirs.sorted().toList()) {
        Path model = dir.resolve("model.onnx");
        if (Files.isRegularFile(model) && covered(model)) {
          tests.add(DynamicTest.dynamicTest(dir.getFileName().toString(), () -> run(dir)));
        }
      }
    }
    System.out.println(tests.size() + " backend cases use only covered operators");
    assertThat(tests).hasSizeGreaterThan(150);
    return tests.stream();
  }

  private static boolean covered(Path model) {
    try {
      OnnxModel m = ModelIO.load(model);
      for (Node n : m.graph().nodes()) {
        if (!n.domain().isEmpty() || !TrainableGraph.supportedOperators().contains(n.opType())) {
          return false;
        }
      }
      for (ValueInfoProto v : m.graph().inputs()) {
        if (!v.getType().hasTensorType()) {
          return false; // sequences and optionals: not tensors
        }
      }
      return !m.graph().nodes().isEmpty();
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static void run(Path dir) throws IOException {
    OnnxModel m = ModelIO.load(dir.resolve("model.onnx"));
    TrainableGraph g;
    try {
      g = TrainableGraph.builder(m).frozen().build();
    } catch (InvalidInputException e) {
      skip(dir, e);
      return;
    }
    try (g) {
      List<Path> sets;
      try (Stream<Path> s = Files.list(dir)) {
        sets =
            s.filter(p -> p.getFileName().toString().startsWith("test_data_set")).sorted().toList();
      }
      for (Path set : sets) {
        runSet(g, m, set);
      }
    }
  }

  private static void runSet(TrainableGraph g, OnnxModel m, Path set) throws IOException {
    try (NDScope scope = new NDScope();
        NDManager local = g.manager().newSubManager()) {
      Map<String, NDArray> in = new LinkedHashMap<>();
      List<ValueInfoProto> inputs = m.graph().runtimeInputs();
      Map<String, NDArray> out;
      try {
        for (int i = 0; i < inputs.size(); i++) {
          Path pb = set.resolve("input_" + i + ".pb");
          if (Files.isRegularFile(pb)) {
            in.put(inputs.get(i).getName(), Values.toArray(local, tensor(pb), ExternalData.NONE));
          }
        }
        out = g.forward(in);
      } catch (InvalidInputException e) {
        skip(set.getParent(), e);
        return;
      }
      List<ValueInfoProto> outputs = m.graph().outputs();
      for (int i = 0; i < outputs.size(); i++) {
        NDArray expected =
            Values.toArray(local, tensor(set.resolve("output_" + i + ".pb")), ExternalData.NONE);
        NDArray actual = out.get(outputs.get(i).getName());
        String what = set.getParent().getFileName() + " output " + outputs.get(i).getName();
        assertThat(actual.getShape()).as(what + " shape").isEqualTo(expected.getShape());
        double[] e = doubles(expected);
        double[] a = doubles(actual);
        for (int k = 0; k < e.length; k++) {
          boolean same =
              Double.compare(a[k], e[k]) == 0
                  || Math.abs(a[k] - e[k]) <= 1e-7 + 1e-3 * Math.abs(e[k]);
          assertThat(same).as("%s[%d]: %s, expected %s", what, k, a[k], e[k]).isTrue();
        }
      }
    }
  }

  /** A case the engine refuses with its clear error: skipped, the reason printed for the log. */
  private static void skip(Path dir, InvalidInputException e) {
    System.out.println("skipped " + dir.getFileName() + ": " + e.getMessage());
    assumeTrue(false, e.getMessage());
  }

  private static double[] doubles(NDArray a) {
    NDArray d = a.getDataType() == DataType.BOOLEAN ? a.toType(DataType.INT32, false) : a;
    d = d.toType(DataType.FLOAT64, false);
    return d.toDoubleArray();
  }

  private static TensorProto tensor(Path pb) {
    try {
      return TensorProto.parseFrom(Files.readAllBytes(pb));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

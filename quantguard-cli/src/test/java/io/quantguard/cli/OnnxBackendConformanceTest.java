package io.quantguard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.quantguard.onnx.CpuFeatures;
import io.quantguard.onnx.DataType;
import io.quantguard.onnx.ExternalData;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.proto.Onnx.GraphProto;
import io.quantguard.onnx.proto.Onnx.ModelProto;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every model of ONNX's own backend test data (Debian's {@code libonnx-testdata}) through {@code
 * inspect} and each quantization mode, as a new user would run them: {@code dynamic} and {@code
 * fp16} without data, {@code static} with the folder's own inputs as calibration. Each run must end
 * either in a model ONNX Runtime loads whose outputs on the folder's inputs stay within the mode's
 * tolerance of the folder's reference outputs (or add no more than that to FP32's own deviation),
 * or in exit 3 with a message that names the reason. Never exit 4, never a hang, never a message
 * about data the user did not give. Every model with a convolution or matrix product on a constant
 * weight must quantize statically. Prints a table by mode and outcome.
 */
class OnnxBackendConformanceTest {
  private static final Path DATA =
      Path.of(System.getProperty("quantguard.onnx-testdata", "/usr/share/libonnx-testdata/data"));
  private static final List<String> SUITES =
      List.of(
          System.getProperty(
                  "quantguard.onnx-testdata.suites",
                  "pytorch-converted,pytorch-operator,simple,node")
              .split(","));

  /** Model folders to run, by name (all by default). */
  private static final String ONLY = System.getProperty("quantguard.onnx-testdata.only", ".*");

  /** Relative L2 error of the outputs a mode may add (int8 has 256 levels, fp16 11 bits). */
  private static final Map<String, Double> TOLERANCE =
      Map.of("static", 0.1, "dynamic", 0.1, "fp16", 0.01);

  /** The operators static quantization exists for, when their weight is a constant. */
  private static final Set<String> LINEAR = Set.of("Conv", "ConvTranspose", "Gemm", "MatMul");

  /**
   * Operators of constants that stay constant (PyTorch exports Linear as MatMul of a Transpose).
   */
  private static final Set<String> FOLDED = Set.of("Transpose", "Reshape", "Cast", "Identity");

  /** Refusals with a named reason, by the words that name it. */
  private static final Map<String, String> REASONS =
      Map.ofEntries(
          Map.entry("has no operator the recipe quantizes", "no operator this mode quantizes"),
          Map.entry("cannot be upgraded because", "old opset cannot be upgraded"),
          Map.entry("changes meaning between opset", "operator changed meaning across opsets"),
          Map.entry("cannot be calibrated", "input type cannot be calibrated"),
          Map.entry("ONNX Runtime cannot load it", "ONNX Runtime cannot load the FP32 model"),
          Map.entry("QuantGuard feeds", "data type QuantGuard does not read"),
          Map.entry("contains Infinity", "calibration data not finite"),
          Map.entry("contains NaN", "calibration data not finite"),
          Map.entry("is not a tensor", "input is not a tensor"),
          Map.entry("cannot be stacked into batches", "test sets of different shapes"),
          Map.entry("does not run on made-up inputs", "needs data to run: none given"));

  /** One message per mode and reason, printed under the table. */
  private static final Map<String, String> EXAMPLES = new TreeMap<>();

  @TempDir Path tmp;

  @Test
  void everyModelQuantizesWithinToleranceOrIsRefusedWithAReason() throws Exception {
    assumeTrue(
        Files.isDirectory(DATA),
        DATA
            + " is absent: install ONNX's backend test data (apt-get install -y libonnx-testdata)");
    List<Path> models = new ArrayList<>();
    for (String suite : SUITES) {
      Path dir = DATA.resolve(suite.trim());
      if (Files.isDirectory(dir)) {
        try (Stream<Path> s = Files.list(dir)) {
          s.filter(p -> Files.exists(p.resolve("model.onnx")))
              .filter(p -> p.getFileName().toString().matches(ONLY))
              .sorted()
              .forEach(models::add);
        }
      }
    }
    assumeTrue(!models.isEmpty(), "no model folders under " + DATA);
    Map<String, Map<String, Integer>> table = new TreeMap<>();
    Map<String, Double> worst = new TreeMap<>();
    List<String> failures = new ArrayList<>();
    int linear = 0;
    ExecutorService runner = Executors.newSingleThreadExecutor();
    // Where the CPU's uint8 x int8 kernels saturate in 16 bits (x86 without VNNI), 7-bit weights,
    // so that the tolerance measures the quantizer and not the kernel.
    Path exact =
        CpuFeatures.detect().u8s8Saturates()
            ? Files.writeString(tmp.resolve("exact.yaml"), "weights: {reduce_range: true}\n")
            : null;
    long start = System.nanoTime();
    try {
      for (Path dir : models) {
        String name = DATA.relativize(dir).toString();
        String model = dir.resolve("model.onnx").toString();
        Cli inspect = run(runner, "inspect", model);
        String o = inspect.exitCode() == 0 ? "ok" : classify(inspect, failures, name, "inspect");
        count(table, "inspect", o);
        for (String mode : List.of("dynamic", "fp16", "static")) {
          Path out = tmp.resolve("q.onnx");
          Files.deleteIfExists(out);
          List<String> args =
              new ArrayList<>(
                  List.of(
                      "quantize", model, "-o", out.toString(), "--mode", mode, "--threads", "1"));
          if (mode.equals("static")) {
            args.addAll(List.of("--calibration", "pb:" + dir));
          }
          if (exact != null && !mode.equals("fp16")) {
            args.addAll(List.of("--recipe", exact.toString()));
          }
          Cli r = run(runner, args.toArray(String[]::new));
          String outcome;
          if (r == null) {
            outcome = "hang";
            failures.add(name + " " + mode + ": no answer within 120 s");
          } else if (r.exitCode() == 0) {
            outcome = compare(dir, out, mode, name, failures, worst);
          } else {
            outcome = classify(r, failures, name, mode);
            if (!mode.equals("static")
                && !r.err().contains("does not run on made-up inputs")
                && (r.err().contains("data for input") || r.err().contains("failed to run it"))) {
              failures.add(name + " " + mode + ": blames data the user did not give: " + r.err());
            }
          }
          count(table, mode, outcome);
          if (mode.equals("static") && hasLinearWeights(dir)) {
            linear++;
            if (!outcome.startsWith("quantized")) {
              failures.add(name + " static: a linear model is not quantized: " + outcome);
            }
          }
        }
      }
    } finally {
      runner.shutdownNow();
    }
    System.out.printf(
        Locale.ROOT,
        "ONNX backend test data: %d models in %.0f s%n",
        models.size(),
        (System.nanoTime() - start) / 1e9);
    table.forEach(
        (mode, outcomes) ->
            outcomes.forEach(
                (outcome, n) -> System.out.printf("  %-8s %-45s %4d%n", mode, outcome, n)));
    worst.forEach(
        (mode, e) -> System.out.printf(Locale.ROOT, "  worst added error %s: %.4f%n", mode, e));
    EXAMPLES.forEach((k, v) -> System.out.println("  e.g. " + k + " - " + v));
    System.out.printf("  static: %d models with a constant-weight Conv/Gemm/MatMul%n", linear);
    failures.forEach(f -> System.out.println("  FAIL " + f));
    assertThat(failures).isEmpty();
  }

  private static Cli run(ExecutorService runner, String... args) throws Exception {
    Future<Cli> f = runner.submit(() -> Cli.run(args));
    try {
      return f.get(120, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      return null;
    }
  }

  /**
   * Whether the model has a convolution or a matrix product with a constant weight: a model static
   * quantization must quantize.
   */
  private static boolean hasLinearWeights(Path dir) {
    try (InputStream in = Files.newInputStream(dir.resolve("model.onnx"))) {
      GraphProto g = ModelProto.parseFrom(in).getGraph();
      Set<String> constants = new HashSet<>();
      g.getInitializerList().forEach(t -> constants.add(t.getName()));
      for (var n : g.getNodeList()) { // topological: a constant's transpose is constant too
        if (n.getOpType().equals("Constant")
            || (FOLDED.contains(n.getOpType()) && constants.containsAll(n.getInputList()))) {
          constants.addAll(n.getOutputList());
        }
      }
      return g.getNodeList().stream()
          .anyMatch(
              n ->
                  LINEAR.contains(n.getOpType())
                      && n.getInputCount() > 1
                      && constants.contains(n.getInput(1)));
    } catch (IOException e) {
      return false;
    }
  }

  private static void count(Map<String, Map<String, Integer>> table, String mode, String outcome) {
    table.computeIfAbsent(mode, k -> new TreeMap<>()).merge(outcome, 1, Integer::sum);
  }

  /** The named reason of an exit-3 refusal; anything else is a failure. */
  private static String classify(Cli r, List<String> failures, String name, String mode) {
    if (r.exitCode() != ExitCodes.BAD_INPUT) {
      failures.add(name + " " + mode + ": exit " + r.exitCode() + ": " + firstLine(r.err()));
      return "exit " + r.exitCode();
    }
    for (Map.Entry<String, String> e : new TreeMap<>(REASONS).entrySet()) {
      if (r.err().contains(e.getKey())) {
        EXAMPLES.computeIfAbsent(mode + " " + e.getValue(), k -> name + ": " + firstLine(r.err()));
        return "refused: " + e.getValue();
      }
    }
    return "refused: " + firstLine(r.err());
  }

  private static String firstLine(String s) {
    String line = s.lines().findFirst().orElse("");
    return line.length() > 160 ? line.substring(0, 160) : line;
  }

  /**
   * Runs the quantized model on every test set of the folder and compares each output with the
   * reference; an error above the tolerance is a failure unless FP32 itself deviates as much.
   */
  private static String compare(
      Path dir,
      Path quantized,
      String mode,
      String name,
      List<String> failures,
      Map<String, Double> worst) {
    SessionConfig config = SessionConfig.defaults().withThreads(1);
    List<Path> sets;
    try (Stream<Path> s = Files.list(dir)) {
      sets =
          s.filter(p -> p.getFileName().toString().startsWith("test_data_set_")).sorted().toList();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    try (InferenceSession q = InferenceSession.open(quantized, config)) {
      boolean compared = false;
      for (Path set : sets) {
        Map<String, Tensor> feed = inputs(set);
        List<Tensor> reference = outputs(set);
        if (feed == null || reference == null) {
          continue;
        }
        List<String> names = q.outputNames();
        List<String> wanted = new ArrayList<>();
        for (int k = 0; k < reference.size() && k < names.size(); k++) {
          if (reference.get(k) != null) {
            wanted.add(names.get(k));
          }
        }
        if (wanted.isEmpty()) {
          continue;
        }
        Map<String, Tensor> got = q.run(feed, wanted);
        for (int k = 0; k < reference.size() && k < names.size(); k++) {
          Tensor ref = reference.get(k);
          Tensor out = got.get(names.get(k));
          if (ref == null || out == null) {
            continue;
          }
          double err = relativeError(out, ref);
          double limit = TOLERANCE.get(mode);
          if (err > limit) {
            double fp32 = fp32Error(dir, feed, k, ref, config);
            if (err > fp32 + limit) {
              failures.add(
                  String.format(
                      Locale.ROOT,
                      "%s %s: output %s off the reference by %.4f (FP32 %.4f, tolerance %.2f)",
                      name,
                      mode,
                      names.get(k),
                      err,
                      fp32,
                      limit));
              return "quantized, OUT OF TOLERANCE";
            }
            err -= fp32;
          }
          worst.merge(mode, err, Math::max);
          compared = true;
        }
      }
      return compared ? "quantized, within tolerance" : "quantized, outputs not comparable";
    } catch (InvalidInputException e) {
      failures.add(name + " " + mode + ": the quantized model does not run: " + e.getMessage());
      return "quantized, DOES NOT RUN";
    }
  }

  private static double fp32Error(
      Path dir, Map<String, Tensor> feed, int k, Tensor ref, SessionConfig config) {
    try (InferenceSession f = InferenceSession.open(dir.resolve("model.onnx"), config)) {
      String name = f.outputNames().get(k);
      return relativeError(f.run(feed, List.of(name)).get(name), ref);
    } catch (InvalidInputException e) {
      return 0; // ONNX Runtime does not load the original (an old opset): nothing to excuse
    }
  }

  /** {@code ||a - b|| / ||b||} over the finite reference values; infinities must match. */
  static double relativeError(Tensor a, Tensor b) {
    float[] x = a.toFloats();
    float[] y = b.toFloats();
    if (x.length != y.length) {
      return Double.POSITIVE_INFINITY;
    }
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < x.length; i++) {
      if (Float.isNaN(y[i])) {
        continue;
      }
      if (Float.isInfinite(y[i])) {
        if (x[i] != y[i]) {
          return Double.POSITIVE_INFINITY;
        }
        continue;
      }
      diff += (x[i] - (double) y[i]) * (x[i] - (double) y[i]);
      norm += (double) y[i] * y[i];
    }
    return Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-6);
  }

  /** The set's inputs as QuantGuard's pb: reader reads them, or null when it cannot. */
  private static Map<String, Tensor> inputs(Path set) {
    try (BatchStream s = DataSpec.parse("pb:" + set).open(Integer.MAX_VALUE)) {
      return s.next().inputs();
    } catch (InvalidInputException e) {
      return null;
    }
  }

  /** The set's reference outputs in order (null entries for types not compared). */
  private static List<Tensor> outputs(Path set) {
    List<Tensor> out = new ArrayList<>();
    for (int k = 0; Files.exists(set.resolve("output_" + k + ".pb")); k++) {
      try (InputStream in = Files.newInputStream(set.resolve("output_" + k + ".pb"))) {
        TensorProto t = TensorProto.parseFrom(in);
        DataType type = DataType.fromCode(t.getDataType());
        long[] dims = TensorCodec.dims(t);
        out.add(
            switch (type) {
              case FLOAT, DOUBLE, FLOAT16 ->
                  Tensor.ofFloats(TensorCodec.toFloats(t, ExternalData.NONE), dims);
              case INT64, INT32, INT8, UINT8, BOOL ->
                  Tensor.ofLongs(TensorCodec.toLongs(t, ExternalData.NONE), dims);
              default -> null;
            });
      } catch (IOException | RuntimeException e) {
        out.add(null); // a sequence, map or optional: not a tensor this harness compares
      }
    }
    return out.isEmpty() ? null : out;
  }

  @Test
  void relativeErrorIsZeroForEqualTensorsAndGrowsWithTheDifference() {
    Tensor ref = Tensor.ofFloats(new float[] {3, 4}, 2);
    assertThat(relativeError(ref, ref)).isZero();
    assertThat(relativeError(Tensor.ofFloats(new float[] {3, 5}, 2), ref))
        .isCloseTo(0.2, org.assertj.core.data.Offset.offset(1e-9));
  }
}

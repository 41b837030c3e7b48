package io.quantguard.tune;

import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.Evaluation;
import io.quantguard.evaluate.Tasks;
import io.quantguard.onnx.ExternalData;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.quantize.Calibration;
import io.quantguard.quantize.QuantParams;
import io.quantguard.quantize.QuantizationResult;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.MetricEstimate;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.DataSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Per-node sensitivity to static quantization. One calibration pass serves every experiment (see
 * {@link Quantizer#calibrate}); then each planned node is quantized alone and the model's outputs
 * on validation data are compared with FP32's, and one FP32 pass measures the error each quantized
 * activation adds by itself. Nodes are analyzed in graph order up to a budget of model evaluations.
 */
public final class SensitivityAnalysis {
  /**
   * @param budget the most nodes to quantize alone (each costs one graph rewrite and one run over
   *     the validation data)
   * @param task with a task spec ({@code classification}, {@code embedding}, ...), the task metric
   *     is also measured for the {@code taskNodes} most sensitive nodes, with only that node
   *     quantized and with only that node left in float, in one paired evaluation; null = SQNR only
   */
  public record Options(
      int budget, @Nullable String task, int taskNodes, SessionConfig session, Progress progress) {
    public static Options defaults() {
      return new Options(Integer.MAX_VALUE, null, 5, SessionConfig.defaults(), Progress.NONE);
    }
  }

  private SensitivityAnalysis() {}

  public static SensitivityReport run(
      OnnxModel fp32,
      Recipe recipe,
      DataSource calibration,
      DataSource validation,
      Options options) {
    long start = System.nanoTime();
    Quantizer.Options q = new Quantizer.Options(options.session(), options.progress());
    Calibration cal = Quantizer.calibrate(fp32, recipe, calibration, q);
    List<Batch> data = ReferenceOutputs.read(validation, Integer.MAX_VALUE);
    List<String> tensors = new ArrayList<>(cal.observedTensors());
    List<String> nodes = Quantizer.staticNodes(cal, recipe);
    List<String> inner = new ArrayList<>(nodeOutputs(fp32, nodes).values());
    inner.addAll(tensors);
    ReferenceOutputs reference = new ReferenceOutputs(fp32, data, inner, options.session());
    QuantizationResult full = Quantizer.quantize(cal, recipe, q);
    double fullDb = reference.outputSqnr(full.model()).db();
    List<SensitivityReport.TensorError> tensorErrors =
        tensorErrors(full.model(), tensors, reference.reference());
    List<SensitivityReport.NodeSensitivity> ranked =
        rank(fp32, cal, recipe, nodes, reference, options);
    String task = options.task();
    SensitivityReport.TaskImpact impact =
        task == null
            ? null
            : taskImpact(fp32, cal, recipe, nodes, full, validation, ranked, task, options);
    return new SensitivityReport(
        fp32.source(),
        RecipeIO.sha256(recipe.resolved()),
        cal.samples(),
        reference.samples(),
        fullDb,
        ranked,
        tensorErrors,
        impact,
        1 + ranked.size() + (impact == null ? 0 : 1),
        (System.nanoTime() - start) / 1e9);
  }

  /**
   * The task metric with every node quantized, and for the most sensitive nodes with only that node
   * quantized and with only that node in float: every candidate in one paired pass over the
   * validation data.
   */
  private static SensitivityReport.TaskImpact taskImpact(
      OnnxModel fp32,
      Calibration cal,
      Recipe recipe,
      List<String> nodes,
      QuantizationResult full,
      DataSource validation,
      List<SensitivityReport.NodeSensitivity> ranked,
      String task,
      Options options) {
    Quantizer.Options q = new Quantizer.Options(options.session(), Progress.NONE);
    List<String> top =
        ranked.stream()
            .limit(options.taskNodes())
            .map(SensitivityReport.NodeSensitivity::node)
            .toList();
    Path dir = null;
    try {
      dir = Files.createTempDirectory("quantguard-sensitivity");
      Path base = dir.resolve("fp32.onnx");
      ModelIO.save(fp32, base);
      Evaluation.Builder b =
          Evaluation.builder()
              .baseline("fp32", base)
              .task(Tasks.parse(task), task)
              .session(options.session())
              .bootstrap(new Bootstrap(0, 0.95, 42))
              .data("validation", validation);
      b.candidate("all", save(full, dir, "all"));
      int i = 0;
      for (String node : top) {
        i++;
        b.candidate(
            "only " + i,
            save(
                Quantizer.quantize(cal, RecipeEdits.only(recipe, List.of(node), nodes), q),
                dir,
                "only" + i));
        b.candidate(
            "float " + i,
            save(Quantizer.quantize(cal, RecipeEdits.without(recipe, node), q), dir, "float" + i));
      }
      EvaluationReport r = b.build().run();
      MetricEstimate headline = r.candidates().get(0).all().metrics().get(0);
      Double fp32Value = headline.vsBaseline() ? null : r.baseline().all().metrics().get(0).value();
      List<SensitivityReport.NodeTaskImpact> out = new ArrayList<>();
      for (int k = 0; k < top.size(); k++) {
        out.add(
            new SensitivityReport.NodeTaskImpact(
                top.get(k), value(r, "only " + (k + 1)), value(r, "float " + (k + 1))));
      }
      return new SensitivityReport.TaskImpact(
          headline.name(), headline.higherIsBetter(), fp32Value, headline.value(), out);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the candidate models for the task metric", e);
    } finally {
      Directories.deleteTree(dir);
    }
  }

  private static Path save(QuantizationResult r, Path dir, String name) {
    Path file = dir.resolve(name + ".onnx");
    ModelIO.save(r.model(), file);
    return file;
  }

  private static @Nullable Double value(EvaluationReport r, String candidate) {
    return r.model(candidate).orElseThrow().all().metrics().get(0).value();
  }

  /**
   * Quantizes each node alone (up to the budget) and compares the outputs with the reference; most
   * sensitive first.
   */
  private static List<SensitivityReport.NodeSensitivity> rank(
      OnnxModel fp32,
      Calibration cal,
      Recipe recipe,
      List<String> nodes,
      ReferenceOutputs reference,
      Options options) {
    Quantizer.Options q = new Quantizer.Options(options.session(), Progress.NONE);
    Map<String, String> nodeOutput = nodeOutputs(fp32, nodes);
    List<SensitivityReport.NodeSensitivity> ranked = new ArrayList<>();
    int planned = Math.min(nodes.size(), options.budget());
    for (String node : nodes.subList(0, planned)) {
      QuantizationResult r =
          Quantizer.quantize(cal, RecipeEdits.only(recipe, List.of(node), nodes), q);
      Sqnr own = new Sqnr();
      Sqnr model = reference.compare(r.model(), nodeOutput.get(node), own);
      String op = fp32.graph().node(node).map(Node::opType).orElse("?");
      ranked.add(new SensitivityReport.NodeSensitivity(node, op, model.db(), own.db()));
      options.progress().update("sensitivity", ranked.size(), planned);
    }
    ranked.sort(Comparator.comparingDouble(SensitivityReport.NodeSensitivity::outputSqnrDb));
    return ranked;
  }

  /** Each node's first output, which the analysis compares with FP32's. */
  static Map<String, String> nodeOutputs(OnnxModel fp32, List<String> nodes) {
    Map<String, String> nodeOutput = new LinkedHashMap<>();
    for (Node n : fp32.graph().nodes()) {
      if (nodes.contains(n.name())) {
        nodeOutput.put(n.name(), n.output(0));
      }
    }
    return nodeOutput;
  }

  /** Quantize→dequantize each activation with the parameters the full model uses for it. */
  private static List<SensitivityReport.TensorError> tensorErrors(
      OnnxModel full, List<String> tensors, List<Map<String, Tensor>> reference) {
    List<SensitivityReport.TensorError> out = new ArrayList<>();
    for (String t : tensors) {
      Node q =
          full.graph().consumers(t).stream()
              .filter(n -> n.opType().equals("QuantizeLinear"))
              .findFirst()
              .orElse(null);
      if (q == null) {
        continue;
      }
      float scale = full.floats(q.input(1))[0];
      int zp = (int) TensorCodec.toLongs(full.requireInitializer(q.input(2)), ExternalData.NONE)[0];
      io.quantguard.onnx.DataType type =
          io.quantguard.onnx.DataType.fromCode(full.requireInitializer(q.input(2)).getDataType());
      int qmin = (int) type.minValue();
      int qmax = (int) type.maxValue();
      Sqnr e = new Sqnr();
      for (Map<String, Tensor> batch : reference) {
        Tensor x = batch.get(t);
        if (x == null) {
          continue;
        }
        float[] v = x.toFloats();
        float[] d = new float[v.length];
        for (int i = 0; i < v.length; i++) {
          d[i] =
              QuantParams.dequantize(QuantParams.quantize(v[i], scale, zp, qmin, qmax), scale, zp);
        }
        e.add(v, d);
      }
      out.add(new SensitivityReport.TensorError(t, e.db()));
    }
    out.sort(Comparator.comparingDouble(SensitivityReport.TensorError::sqnrDb));
    return out;
  }
}

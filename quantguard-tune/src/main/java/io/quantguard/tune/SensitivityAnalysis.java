package io.quantguard.tune;

import io.quantguard.onnx.ExternalData;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.quantize.Calibration;
import io.quantguard.quantize.QuantParams;
import io.quantguard.quantize.QuantizationResult;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
   */
  public record Options(int budget, SessionConfig session, Progress progress, String toolVersion) {
    public static Options defaults(String toolVersion) {
      return new Options(Integer.MAX_VALUE, SessionConfig.defaults(), Progress.NONE, toolVersion);
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
    Quantizer.Options q =
        new Quantizer.Options(options.session(), options.progress(), options.toolVersion());
    Calibration cal = Quantizer.calibrate(fp32, recipe, calibration, q);
    List<String> nodes = Quantizer.staticNodes(cal, recipe);
    List<Batch> data = read(validation);
    long samples = data.stream().mapToLong(Batch::size).sum();

    List<Map<String, Tensor>> reference = new ArrayList<>();
    List<String> outputs;
    Map<String, String> nodeOutput = new LinkedHashMap<>();
    for (Node n : fp32.graph().nodes()) {
      if (nodes.contains(n.name())) {
        nodeOutput.put(n.name(), n.output(0));
      }
    }
    List<String> tensors = new ArrayList<>(cal.observedTensors());
    List<String> fp32Exposed = new ArrayList<>(nodeOutput.values());
    fp32Exposed.addAll(tensors);
    try (InferenceSession s = InferenceSession.open(fp32, options.session(), fp32Exposed)) {
      outputs = fp32.graph().outputs().stream().map(v -> v.getName()).toList();
      List<String> wanted = new ArrayList<>(outputs);
      wanted.addAll(fp32Exposed);
      for (Batch b : data) {
        reference.add(s.run(b.inputs(), wanted.stream().distinct().toList()));
      }
    }

    QuantizationResult full = Quantizer.quantize(cal, recipe, q);
    double fullDb =
        outputSqnr(full.model(), data, reference, outputs, null, options.session()).db();
    List<SensitivityReport.TensorError> tensorErrors =
        tensorErrors(full.model(), tensors, reference);

    List<SensitivityReport.NodeSensitivity> ranked = new ArrayList<>();
    int evaluations = 1;
    Recipe base = recipe.resolved();
    for (String node : nodes) {
      if (evaluations > options.budget()) {
        break;
      }
      List<String> others = new ArrayList<>(base.exclude());
      nodes.stream().filter(x -> !x.equals(node)).forEach(others::add);
      Recipe alone =
          new Recipe(
              base.version(),
              base.mode(),
              base.activations(),
              base.weights(),
              base.opTypes(),
              others,
              base.overrides(),
              base.calibration(),
              base.rationale());
      QuantizationResult r = Quantizer.quantize(cal, alone, q);
      String out = nodeOutput.get(node);
      Sqnr own = new Sqnr();
      Sqnr model =
          outputSqnr(
              r.model(),
              data,
              reference,
              outputs,
              out == null ? null : Map.entry(out, own),
              options.session());
      String op = fp32.graph().node(node).map(Node::opType).orElse("?");
      ranked.add(new SensitivityReport.NodeSensitivity(node, op, model.db(), own.db()));
      evaluations++;
      options
          .progress()
          .update("sensitivity", evaluations - 1, Math.min(nodes.size(), options.budget()));
    }
    ranked.sort(Comparator.comparingDouble(SensitivityReport.NodeSensitivity::outputSqnrDb));
    return new SensitivityReport(
        fp32.source(),
        RecipeIO.sha256(base),
        cal.samples(),
        samples,
        fullDb,
        ranked,
        tensorErrors,
        evaluations,
        (System.nanoTime() - start) / 1e9);
  }

  private static List<Batch> read(DataSource validation) {
    List<Batch> out = new ArrayList<>();
    try (BatchStream s = validation.open(16)) {
      s.forEachRemaining(out::add);
    }
    return out;
  }

  /** SQNR of all graph outputs against the FP32 reference; optionally of one inner tensor too. */
  private static Sqnr outputSqnr(
      OnnxModel candidate,
      List<Batch> data,
      List<Map<String, Tensor>> reference,
      List<String> outputs,
      Map.Entry<String, Sqnr> inner,
      SessionConfig config) {
    Sqnr total = new Sqnr();
    List<String> expose = inner == null ? List.of() : List.of(inner.getKey());
    try (InferenceSession s = InferenceSession.open(candidate, config, expose)) {
      List<String> wanted = new ArrayList<>(outputs);
      wanted.addAll(expose);
      for (int i = 0; i < data.size(); i++) {
        Map<String, Tensor> got = s.run(data.get(i).inputs(), wanted.stream().distinct().toList());
        for (String o : outputs) {
          total.add(reference.get(i).get(o).toFloats(), got.get(o).toFloats());
        }
        if (inner != null) {
          inner
              .getValue()
              .add(
                  reference.get(i).get(inner.getKey()).toFloats(),
                  got.get(inner.getKey()).toFloats());
        }
      }
    }
    return total;
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

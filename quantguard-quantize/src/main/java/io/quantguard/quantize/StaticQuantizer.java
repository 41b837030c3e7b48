package io.quantguard.quantize;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.TensorType;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.ShapeProbe;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Post-training static quantization into the QDQ format: learns tensor types, plans the quantizers
 * from the recipe, calibrates activations in one streaming pass, and rewrites the graph. The result
 * records its recipe hash, calibration fingerprint and tool version in {@code metadata_props}; the
 * same model, recipe and data give the same bytes.
 */
public final class StaticQuantizer {
  /** metadata_props keys written into every quantized model. */
  public static final String META_VERSION = "quantguard.version";

  public static final String META_RECIPE = "quantguard.recipe";
  public static final String META_RECIPE_SHA = "quantguard.recipe.sha256";
  public static final String META_FINGERPRINT = "quantguard.calibration.fingerprint";
  public static final String META_SAMPLES = "quantguard.calibration.samples";

  /**
   * How to run: ONNX Runtime options for calibration, a progress sink, the tool version to record.
   */
  public record Options(SessionConfig session, Progress progress, String toolVersion) {
    public static Options defaults(String toolVersion) {
      return new Options(SessionConfig.defaults(), Progress.NONE, toolVersion);
    }
  }

  private StaticQuantizer() {}

  public static QuantizationResult quantize(
      OnnxModel fp32, Recipe recipe, DataSource calibration, Options options) {
    Recipe r = recipe.resolved();
    OnnxModel work = fp32.copy();
    GraphCleanup.constantsToInitializers(work.graph());
    int batchSize = r.calibration().batchSize();
    Batch first;
    try (BatchStream s = calibration.open(batchSize)) {
      if (!s.hasNext()) {
        throw new InvalidInputException(
            calibration.name(), "holds no samples", "point --calibration at representative data");
      }
      first = s.next();
    }
    Map<String, TensorType> types = ShapeProbe.learn(work, first.inputs(), options.session());
    Set<String> declared = new HashSet<>(work.graph().valueInfo().keySet());
    ShapeProbe.annotate(work, types);

    RecipeResolver resolver = new RecipeResolver(r, work.graph(), "recipe");
    QdqPass pass = new QdqPass(work, resolver);
    pass.plan();
    Set<String> tensors = pass.observed();
    if (pass.quantizedByOp().isEmpty()) {
      throw new InvalidInputException(
          fp32.source(),
          "has no operator the recipe quantizes (op_types " + r.opTypes() + ")",
          "check the model (quantguard inspect) or add its operator types to the recipe's op_types");
    }
    OnnxModel calibrationModel = work.copy();
    long opsetBefore = work.opset(OnnxModel.DEFAULT_DOMAIN);
    long target = Math.max(pass.requiredOpset(), opsetBefore);
    OpsetUpgrade.upgrade(work, target);

    ActivationCalibration.Result cal =
        ActivationCalibration.run(
            calibrationModel,
            tensors,
            calibration,
            batchSize,
            r.calibration().samples(),
            options.session(),
            options.progress());
    long weightsBefore = weightBytes(work);
    pass.rewrite(cal.statistics());
    for (String name : new ArrayList<>(work.graph().valueInfo().keySet())) {
      if (!declared.contains(name)) {
        work.graph().removeValueInfo(name);
      }
    }
    List<String> notes = new ArrayList<>(pass.notes());
    if (target > opsetBefore) {
      notes.add(
          "upgraded the default opset from "
              + opsetBefore
              + " to "
              + target
              + " (needed by the quantizers)");
    }
    work.putMetadata(META_VERSION, options.toolVersion());
    work.putMetadata(META_RECIPE, RecipeIO.toJson(r));
    work.putMetadata(META_RECIPE_SHA, RecipeIO.sha256(r));
    work.putMetadata(META_FINGERPRINT, cal.fingerprint());
    work.putMetadata(META_SAMPLES, Long.toString(cal.samples()));
    checkRuns(work, options.session());
    QuantizationReport report =
        new QuantizationReport(
            "static",
            RecipeIO.sha256(r),
            cal.fingerprint(),
            cal.samples(),
            cal.nanos() / 1e9,
            pass.quantizedByOp(),
            pass.quantizedActivations(),
            pass.quantizedWeights(),
            weightsBefore,
            weightBytes(work),
            List.of(pass.skipped()),
            notes,
            opsetBefore,
            target);
    return new QuantizationResult(work, r, report);
  }

  private static long weightBytes(OnnxModel m) {
    return m.graph().initializers().values().stream().mapToLong(TensorCodec::storageBytes).sum();
  }

  /** The rewritten model must load in ONNX Runtime; anything else is a QuantGuard bug. */
  private static void checkRuns(OnnxModel m, SessionConfig config) {
    try (InferenceSession s = InferenceSession.open(m, config)) {
      s.inputs();
    } catch (InvalidInputException e) {
      throw new IllegalStateException(
          "the quantized model does not load in ONNX Runtime: " + e.getMessage(), e);
    }
  }
}

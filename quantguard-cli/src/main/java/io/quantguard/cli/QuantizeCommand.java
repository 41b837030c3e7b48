package io.quantguard.cli;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.quantize.Calibration;
import io.quantguard.quantize.CalibrationPlan;
import io.quantguard.quantize.QuantizationPlan;
import io.quantguard.quantize.QuantizationReport;
import io.quantguard.quantize.QuantizationResult;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.runtime.ResourceLocator;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.DataSource;
import io.quantguard.runtime.data.DataSpec;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code quantguard quantize}: FP32 model + calibration data + recipe → quantized ONNX model. */
@Command(
    name = "quantize",
    mixinStandardHelpOptions = true,
    description = "Quantize a model (static int8 QDQ with calibration by default).")
final class QuantizeCommand implements Callable<Integer> {
  @Parameters(
      paramLabel = "MODEL",
      description = "the FP32 model (file, maven:... reference or known name)")
  String model;

  @Option(
      names = {"-o", "--output"},
      required = true,
      description = "where to write the quantized model")
  Path output;

  @Option(
      names = "--calibration",
      description = "calibration data spec (see README), e.g. idx:train-images-idx3-ubyte.gz")
  @Nullable String calibration;

  @Option(
      names = "--calibration-stats",
      paramLabel = "FILE",
      description =
          "calibration statistics computed elsewhere (quantguard-spark's calibrate) instead of"
              + " --calibration; the recipe's tensors must be among them")
  Path calibrationStats;

  @Option(
      names = "--recipe",
      description = "recipe file (YAML or JSON); flags below override its defaults")
  @Nullable Path recipeFile;

  @Option(
      names = "--mode",
      description = "static (default; needs --calibration), dynamic, weight-only, fp16")
  @Nullable String mode;

  @Option(names = "--block-size", description = "weight-only: values per scale (32, 64, 128)")
  @Nullable Integer blockSize;

  @Option(
      names = "--method",
      description = "activation calibration: minmax, minmax-average, percentile, entropy, mse")
  @Nullable String method;

  @Option(
      names = "--percentile",
      description = "percentile for --method percentile (default 99.999)")
  @Nullable Double percentile;

  @Option(
      names = "--per-channel",
      negatable = true,
      description = "per-channel weight scales (default true)")
  @Nullable Boolean perChannel;

  @Option(
      names = "--symmetric-activations",
      description = "symmetric activations (int8, zero point 0)")
  boolean symmetricActivations;

  @Option(names = "--activation-type", description = "uint8 (default), int8, uint16, int16")
  @Nullable String activationType;

  @Option(names = "--weight-type", description = "int8 (default), int4, uint8, uint4, int16")
  @Nullable String weightType;

  @Option(
      names = "--weight-method",
      description = "weight ranges: minmax (default), mse, percentile")
  @Nullable String weightMethod;

  @Option(
      names = "--exclude",
      description = "keep this node in float (repeatable; /regex/ allowed)")
  List<String> exclude = new ArrayList<>();

  @Option(
      names = "--optimize",
      description =
          "let ONNX Runtime's graph optimizer fuse the model first (recipe optimize: onnxruntime);"
              + " the result runs only on ONNX Runtime (com.microsoft operators)")
  boolean optimize;

  @Option(names = "--samples", description = "calibration samples to use (default 1000)")
  @Nullable Integer samples;

  @Option(names = "--batch-size", description = "calibration batch size (default 32)")
  @Nullable Integer batchSize;

  @Option(
      names = "--threads",
      defaultValue = "0",
      description = "ONNX Runtime intra-op threads (0 = all cores)")
  int threads;

  @Option(names = "--save-recipe", description = "also write the effective recipe (YAML) here")
  @Nullable Path saveRecipe;

  @Option(names = "--json", description = "print the report as JSON")
  boolean json;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  /** The calibration in {@code --calibration-stats}, checked against the model. */
  private Calibration statistics(OnnxModel fp32, Path calibrationStats) {
    if (calibration != null) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "give --calibration or --calibration-stats, not both");
    }
    Calibration c;
    try (InputStream in = new BufferedInputStream(Files.newInputStream(calibrationStats))) {
      c = Calibration.readFrom(in);
    } catch (IOException e) {
      throw new InvalidInputException(
          calibrationStats.toString(),
          "cannot be read as calibration statistics: " + e.getMessage(),
          "give the file quantguard-spark's calibrate (or Calibration.writeTo) wrote");
    }
    if (!c.plan().isFor(fp32)) {
      throw new InvalidInputException(
          calibrationStats.toString(),
          "holds statistics calibrated on another model than " + model,
          "give the FP32 model the statistics were computed for");
    }
    return c;
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    OnnxModel fp32 = ModelIO.load(ResourceLocator.resolve(model));
    Recipe recipe =
        flags().over(recipeFile != null ? RecipeIO.read(recipeFile) : Recipe.builder().build());
    DataSource data = calibration != null ? DataSpec.parse(calibration) : null;
    var progress = TerminalProgress.forTerminal(spec.commandLine().getErr(), json);
    Quantizer.Options options =
        new Quantizer.Options(SessionConfig.defaults().withThreads(threads), progress);
    QuantizationResult result;
    QuantizationPlan plan = null;
    if (calibrationStats != null) {
      // The statistics carry the model as calibrated; no data to plan on here.
      result = Quantizer.quantize(statistics(fp32, calibrationStats), recipe, options);
    } else {
      // One model run learns the types the plan and the calibration both need.
      CalibrationPlan types = Quantizer.planCalibration(fp32, recipe, data, options);
      plan = Quantizer.plan(types, recipe);
      if (!json) {
        PlanOutput.summary(out, plan);
        out.flush();
      }
      result = Quantizer.quantize(Quantizer.calibrate(types, data, options), recipe, options);
    }
    if (progress instanceof TerminalProgress tp) {
      tp.finish();
    }
    ModelIO.save(result.model(), output);
    if (saveRecipe != null) {
      try {
        Files.writeString(saveRecipe, RecipeIO.toYaml(result.recipe()));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    long inBytes = size(ResourceLocator.resolve(model));
    long outBytes = size(output);
    QuantizationReport r = result.report();
    if (json) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("model", model);
      doc.put("output", output.toString());
      doc.put("inputBytes", inBytes);
      doc.put("outputBytes", outBytes);
      if (plan != null) {
        doc.put("plan", plan);
      }
      doc.put("report", r);
      doc.put("recipe", result.recipe());
      Output.json(out, doc);
      return ExitCodes.OK;
    }
    out.printf(
        "Quantized   %s -> %s (%s, %s)%n",
        model,
        output,
        r.quantizedNodesByOp().entrySet().stream()
            .map(e -> e.getKey() + "×" + e.getValue())
            .reduce((a, b) -> a + ", " + b)
            .orElse("nothing"),
        result.recipe().mode());
    out.printf(
        "Size        %s -> %s (%.1f %%)%n",
        Output.bytes(inBytes), Output.bytes(outBytes), 100.0 * outBytes / inBytes);
    if (r.calibrationSamples() > 0) {
      out.printf(
          Locale.ROOT,
          "Calibration %d samples in %.1f s, fingerprint %s%n",
          r.calibrationSamples(),
          r.calibrationSeconds(),
          r.calibrationFingerprint().substring(0, 16));
    }
    out.printf("Recipe      sha256 %s%n", r.recipeSha256().substring(0, 16));
    out.printf(
        "Tensors     %d activations, %d weights quantized; opset %d -> %d%n",
        r.quantizedActivations(), r.quantizedWeights(), r.opsetBefore(), r.opsetAfter());
    for (QuantizationReport.Skipped s : r.keptInFloat()) {
      out.printf("Float       %s (%s): %s%n", s.node(), s.opType(), s.reason());
    }
    r.notes().forEach(n -> out.printf("Note        %s%n", n));
    return ExitCodes.OK;
  }

  /** The settings the flags give, laid over the recipe: the rest of the recipe stays as it is. */
  private Recipe flags() {
    return Recipe.builder()
        .mode(mode)
        .activations(
            Recipe.Activations.builder()
                .type(
                    activationType != null
                        ? activationType
                        : (symmetricActivations ? "int8" : null))
                .symmetric(symmetricActivations ? Boolean.TRUE : null)
                .method(method)
                .percentile(percentile)
                .build())
        .weights(
            Recipe.Weights.builder()
                .type(weightType)
                .perChannel(perChannel)
                .method(weightMethod)
                .blockSize(blockSize)
                .build())
        .calibration(Recipe.Calibration.builder().samples(samples).batchSize(batchSize).build())
        .exclude(exclude)
        .optimize(optimize ? "onnxruntime" : null)
        .build();
  }

  private static long size(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

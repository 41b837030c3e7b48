package io.quantguard.cli;

import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.ModelSummary;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.quantize.QuantizationPlan;
import io.quantguard.quantize.Quantizer;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.runtime.ResourceLocator;
import io.quantguard.runtime.data.DataSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code quantguard inspect MODEL}: what a model is, and whether and how it is quantized. */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description = "Describe a model: interface, operators, parameters, quantization.")
final class InspectCommand implements Callable<Integer> {
  @Parameters(
      paramLabel = "MODEL",
      description =
          "an .onnx file, a maven:group:artifact:version!/entry reference, or a known name (minilm, minilm-q)")
  String model;

  @Option(names = "--json", description = "print JSON")
  boolean json;

  @Option(
      names = "--mode",
      description =
          "also list, node by node, what this mode would quantize and what it keeps in float and"
              + " why: static, dynamic, weight-only, fp16")
  @Nullable String mode;

  @Option(names = "--recipe", description = "as --mode, for the nodes this recipe file quantizes")
  @Nullable Path recipeFile;

  @Option(
      names = "--data",
      description = "sample inputs (data spec) to learn tensor types from; default: made-up inputs")
  @Nullable String data;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Path file = ResourceLocator.resolve(model);
    OnnxModel m = ModelIO.load(file);
    ModelSummary s = ModelSummary.of(m);
    PrintWriter out = spec.commandLine().getOut();
    long size;
    try {
      size = Files.size(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    QuantizationPlan plan = plan(m);
    if (json) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("model", model);
      doc.put("file", file.toString());
      doc.put("fileBytes", size);
      doc.put("summary", s);
      if (plan != null) {
        doc.put("plan", plan);
      }
      Output.json(out, doc);
      return ExitCodes.OK;
    }
    out.printf("Model       %s (%s)%n", model, Output.bytes(size));
    StringBuilder opsets = new StringBuilder();
    s.opsets()
        .forEach(
            (d, v) ->
                opsets
                    .append(opsets.length() == 0 ? "" : ", ")
                    .append(d.isEmpty() ? "ai.onnx" : d)
                    .append(' ')
                    .append(v));
    out.printf(
        "Format      IR %d, opsets %s%s%n",
        s.irVersion(), opsets, s.producer().isEmpty() ? "" : ", producer " + s.producer());
    s.inputs().forEach(p -> out.printf("Input       %s  %s%n", p.name(), p.type()));
    s.outputs().forEach(p -> out.printf("Output      %s  %s%n", p.name(), p.type()));
    out.printf("Nodes       %d: %s%n", s.nodeCount(), s.opMix(12));
    StringBuilder types = new StringBuilder();
    s.parametersByType()
        .forEach(
            (t, d) ->
                types
                    .append(types.length() == 0 ? "" : ", ")
                    .append(t)
                    .append(' ')
                    .append(Output.count(d.elements()))
                    .append(" (")
                    .append(Output.bytes(d.bytes()))
                    .append(')'));
    out.printf(
        "Parameters  %s in %s: %s%n",
        Output.count(s.parameterCount()), Output.bytes(s.parameterBytes()), types);
    out.printf(
        "External    %s%n",
        s.externalDataFiles().isEmpty()
            ? "none (weights inline)"
            : String.join(", ", s.externalDataFiles())
                + " ("
                + Output.bytes(s.externalDataBytes())
                + ")");
    ModelSummary.Quantization q = s.quantization();
    out.printf("Quantized   %s: %s%n", q.quantized() ? "yes" : "no", q.scheme());
    if (!q.integerOps().isEmpty()) {
      out.printf("            integer ops: %s%n", q.integerOps());
    }
    q.notes().forEach(n -> out.printf("            %s%n", n));
    s.metadata()
        .forEach(
            (k, v) ->
                out.printf(
                    "Metadata    %s = %s%n", k, v.length() > 100 ? v.substring(0, 97) + "..." : v));
    if (plan != null) {
      PlanOutput.detail(out, plan);
    }
    return ExitCodes.OK;
  }

  /** The plan for the mode or recipe asked for, or null when neither was. */
  private @Nullable QuantizationPlan plan(OnnxModel m) {
    if (mode == null && recipeFile == null) {
      return null;
    }
    Recipe recipe = recipeFile != null ? RecipeIO.read(recipeFile) : Recipe.builder().build();
    if (mode != null) {
      recipe = Recipe.builder().mode(mode).build().over(recipe);
    }
    return Quantizer.plan(
        m, recipe, data != null ? DataSpec.parse(data) : null, Quantizer.Options.defaults());
  }
}

package io.quantguard.cli.registry;

import io.quantguard.cli.ExitCodes;
import io.quantguard.cli.Output;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.quantize.ResolvedRecipe;
import io.quantguard.registry.ArtifactVersion;
import io.quantguard.registry.Registration;
import io.quantguard.registry.Registry;
import io.quantguard.runtime.ResourceLocator;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code quantguard registry register FILE --name MODEL}: stores the next version. */
@Command(
    name = "register",
    mixinStandardHelpOptions = true,
    description = {
      "Store a model file as the next version of MODEL (stage candidate).",
      "A quantized model's recipe, calibration fingerprint, tool version and the environment it"
          + " was quantized in come from its metadata; --parent names the FP32 model it came from"
          + " (registered first)."
    })
final class RegisterCommand implements Callable<Integer> {
  @Parameters(
      paramLabel = "MODEL",
      description = "the .onnx file (or a maven:... reference or known name, e.g. minilm)")
  String file;

  @Option(names = "--name", required = true, description = "model name")
  String name;

  @Option(
      names = "--parent",
      paramLabel = "MODEL@VERSION|FILE",
      description =
          "the registered model it was derived from: a version, or its file (or known name)")
  String parent;

  @Option(
      names = "--recipe",
      description = "recipe file, for a model whose metadata does not record its recipe")
  Path recipe;

  @Option(
      names = "--report",
      paramLabel = "DIR|FILE",
      description = "evaluation report (report.json or its directory) to keep with it")
  Path report;

  @Option(names = "--note", description = "why it is registered")
  String note;

  @Mixin StoreOptions store;
  @Mixin ActorOption actor;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Path model = ResourceLocator.resolve(file);
    String from =
        parent == null || parent.contains("@")
            ? parent
            : ResourceLocator.resolve(parent).toString();
    Registration.Recipe given = null;
    if (recipe != null) {
      ResolvedRecipe r = ResolvedRecipe.of(RecipeIO.read(recipe), recipe.toString());
      given =
          new Registration.Recipe(
              RecipeIO.toJson(r.form()), RecipeIO.sha256(r.form()), r.mode().spelling());
    }
    Registry registry = store.open();
    ArtifactVersion v =
        registry.register(new Registration(model, name, from, given, report, note, actor.get()));
    PrintWriter out = spec.commandLine().getOut();
    if (store.json()) {
      Output.json(out, v);
      return ExitCodes.OK;
    }
    out.printf(
        "Registered  %s (%s, %s, %s, sha256 %s)%n",
        v.ref(),
        v.stage().id(),
        v.mode() != null ? v.mode() : "float",
        Output.bytes(v.sizeBytes()),
        v.sha256().substring(0, 16));
    if (v.parent() != null) {
      out.printf("Parent      %s%n", v.parent());
    }
    if (v.quantized()) {
      String recipeSha = v.recipeSha256();
      out.printf(
          "Recipe      sha256 %s%n",
          recipeSha != null ? recipeSha.substring(0, 16) : "not recorded");
      if (v.calibrationFingerprint() != null) {
        out.printf(
            "Calibration %s samples, fingerprint %s%n",
            v.calibrationSamples(), v.calibrationFingerprint().substring(0, 16));
      }
      if (v.parent() == null) {
        out.printf(
            "Note        no --parent: reproduce needs the FP32 model it came from; register it"
                + " and this file again with --parent MODEL@VERSION%n");
      }
    }
    return ExitCodes.OK;
  }
}

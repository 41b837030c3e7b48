package io.quantguard.cli.registry;

import io.quantguard.cli.ExitCodes;
import io.quantguard.cli.Output;
import io.quantguard.cli.TerminalProgress;
import io.quantguard.evaluate.drift.ReferenceProfile;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.ArtifactVersion;
import io.quantguard.registry.Registry;
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
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code quantguard registry profile MODEL@VERSION (--data SPEC | --profile FILE) --reason WHY}:
 * stores the drift reference profile a server compares live traffic with.
 */
@Command(
    name = "profile",
    mixinStandardHelpOptions = true,
    description = {
      "Store a drift reference profile with a version (the FP32 model, usually): built from"
          + " --data by running the registered model over it, or read from --profile FILE.",
      "`serve --drift` compares live traffic with it; a quantized version without a profile of its"
          + " own uses its parent's."
    })
final class ProfileCommand implements Callable<Integer> {
  @Parameters(paramLabel = "MODEL@VERSION")
  String model;

  @Option(
      names = "--data",
      paramLabel = "SPEC",
      description = "reference data, as for evaluate (e.g. its calibration or validation data)")
  @Nullable String data;

  @Option(
      names = "--profile",
      paramLabel = "FILE",
      description = "a profile written by ReferenceProfile.write, instead of --data")
  @Nullable Path profile;

  @Option(
      names = "--unknown-token-id",
      paramLabel = "ID",
      description = "the tokenizer's [UNK] id, for the unknown-token rate of token inputs")
  @Nullable Long unknownTokenId;

  @Mixin ReasonOption reason;
  @Mixin StoreOptions store;
  @Mixin ActorOption actor;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    if ((data == null) == (profile == null)) {
      throw new InvalidInputException(
          "registry profile " + model,
          "needs exactly one of --data and --profile",
          "give --data SPEC to build the profile, or --profile FILE to store one");
    }
    Registry registry = store.open();
    ArtifactVersion v = registry.version(ArtifactRef.parse(model));
    Path dir = Files.createTempDirectory("quantguard-profile");
    try {
      Path file = profile;
      if (file == null) {
        Path onnx = dir.resolve(v.fileName().endsWith(".onnx") ? v.fileName() : "model.onnx");
        registry.export(v.ref(), onnx);
        ReferenceProfile.Builder b =
            ReferenceProfile.builder()
                .model(v.ref().toString(), onnx)
                .data(DataSpec.parse(String.valueOf(data)))
                .progress(TerminalProgress.forTerminal(spec.commandLine().getErr(), store.json()));
        if (unknownTokenId != null) {
          b.unknownTokenId(unknownTokenId);
        }
        file = b.build().write(dir.resolve("profile.json"));
      }
      ReferenceProfile p = ReferenceProfile.read(file); // refuses anything else
      String sha = registry.setProfile(v.ref(), file, reason.get(), actor.get());
      PrintWriter out = spec.commandLine().getOut();
      if (store.json()) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("ref", v.ref().toString());
        doc.put("profileSha256", sha);
        doc.put("samples", p.samples());
        doc.put("features", p.features().size());
        Output.json(out, doc);
      } else {
        out.printf(
            "Profile     %s: %d reference samples, %d features, sha256 %s%n",
            v.ref(), p.samples(), p.features().size(), sha);
      }
      return ExitCodes.OK;
    } finally {
      try (var files = Files.list(dir)) {
        for (Path f : files.toList()) {
          Files.deleteIfExists(f);
        }
        Files.deleteIfExists(dir);
      } catch (IOException | UncheckedIOException e) {
        // a temporary copy left behind is harmless
      }
    }
  }
}

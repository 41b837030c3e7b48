package io.quantguard.cli.registry;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantguard.cli.ExitCodes;
import io.quantguard.cli.Output;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.ArtifactVersion;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code quantguard registry export MODEL@VERSION -o FILE}: the model file, verified. */
@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    description = "Write a version's model file (verified against its SHA-256) to a path.")
final class ExportCommand implements Callable<Integer> {
  @Parameters(paramLabel = "MODEL@VERSION", description = "MODEL@3, MODEL@production, ...")
  String ref;

  @Option(
      names = {"-o", "--output"},
      required = true,
      description = "where to write the .onnx file")
  Path output;

  @Mixin StoreOptions store;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    ArtifactVersion v = store.open().export(ArtifactRef.parse(ref), output);
    PrintWriter out = spec.commandLine().getOut();
    if (store.json()) {
      ObjectNode doc = Output.JSON.valueToTree(v);
      doc.put("output", output.toString());
      Output.json(out, doc);
    } else {
      out.printf(
          "Exported    %s -> %s (%s, sha256 verified)%n",
          v.ref(), output, Output.bytes(v.sizeBytes()));
    }
    return ExitCodes.OK;
  }
}

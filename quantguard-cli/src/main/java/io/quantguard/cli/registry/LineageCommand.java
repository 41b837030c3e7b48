package io.quantguard.cli.registry;

import io.quantguard.cli.ExitCodes;
import io.quantguard.cli.Output;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.Lineage;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code quantguard registry lineage MODEL[@VERSION]}: where versions came from, as a tree. */
@Command(
    name = "lineage",
    mixinStandardHelpOptions = true,
    description = "Print where versions came from: parents (FP32) and what was derived.")
final class LineageCommand implements Callable<Integer> {
  @Parameters(paramLabel = "MODEL[@VERSION]")
  String ref;

  @Mixin StoreOptions store;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Lineage l = store.open().lineage(ArtifactRef.parse(ref));
    PrintWriter out = spec.commandLine().getOut();
    if (store.json()) {
      Output.json(out, l);
    } else {
      out.print(l.render());
      out.flush();
    }
    return ExitCodes.OK;
  }
}

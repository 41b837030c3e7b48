package io.quantguard.cli.registry;

import io.quantguard.cli.ExitCodes;
import io.quantguard.cli.Output;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.ChangeLogEntry;
import io.quantguard.registry.Stage;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code quantguard registry promote MODEL@VERSION --to STAGE --reason WHY}. */
@Command(
    name = "promote",
    mixinStandardHelpOptions = true,
    description = {
      "Move a version to a stage (default production), with the reason recorded.",
      "Production's previous holder is archived; canary's goes back to candidate."
    })
final class PromoteCommand implements Callable<Integer> {
  @Parameters(paramLabel = "MODEL@VERSION")
  String ref;

  @Option(
      names = "--to",
      defaultValue = "production",
      description = "candidate, canary, production (default) or archived")
  String to;

  @Mixin ReasonOption reason;

  @Mixin StoreOptions store;
  @Mixin ActorOption actor;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    ArtifactRef a = ArtifactRef.parse(ref);
    if (!a.pinned()) {
      throw new InvalidInputException(ref, "names no version", "use MODEL@VERSION");
    }
    Stage stage = Stage.parse(to, "--to");
    ChangeLogEntry e = store.open().promote(a, stage, reason.get(), actor.get());
    PrintWriter out = spec.commandLine().getOut();
    if (store.json()) {
      Output.json(out, e);
      return ExitCodes.OK;
    }
    out.printf(
        "Promoted    %s@%d to %s (was %s)%n",
        e.model(), e.version(), stage.id(), e.details().get("from"));
    if (e.previousVersion() != null) {
      out.printf(
          "Displaced   %s@%d -> %s%n",
          e.model(), e.previousVersion(), e.details().get("displacedTo"));
    }
    out.println(ChangeLogText.recorded(e));
    return ExitCodes.OK;
  }
}

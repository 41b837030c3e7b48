package io.quantguard.cli.registry;

import io.quantguard.cli.ExitCodes;
import io.quantguard.cli.Output;
import io.quantguard.cli.TerminalProgress;
import io.quantguard.quantize.Quantizer;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.Reproduction;
import io.quantguard.release.Reproducer;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.DataSpec;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code quantguard registry reproduce MODEL@VERSION [--calibration SPEC]} ({@link Reproducer}).
 */
@Command(
    name = "reproduce",
    mixinStandardHelpOptions = true,
    description = {
      "Re-run a version's recorded recipe on its registered parent and check byte identity.",
      "Exits 0 when the bytes are identical, 1 with what differs (data fingerprint, tool"
          + " version, recipe hash, bytes) otherwise; where the model was quantized (ONNX Runtime,"
          + " Java, OS, CPU) is compared with here and noted."
    })
final class ReproduceCommand implements Callable<Integer> {
  @Parameters(paramLabel = "MODEL@VERSION")
  String ref;

  @Option(
      names = "--calibration",
      description = "the calibration data spec it was quantized with (if it was calibrated)")
  String calibration;

  @Option(
      names = "--threads",
      defaultValue = "0",
      description = "ONNX Runtime intra-op threads (0 = all cores)")
  int threads;

  @Mixin StoreOptions store;
  @Mixin ActorOption actor;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Progress progress = TerminalProgress.forTerminal(spec.commandLine().getErr(), store.json());
    Reproduction rep =
        Reproducer.reproduce(
            store.open(),
            ArtifactRef.parse(ref),
            calibration != null ? DataSpec.parse(calibration) : null,
            new Quantizer.Options(SessionConfig.defaults().withThreads(threads), progress),
            actor.get());
    if (progress instanceof TerminalProgress tp) {
      tp.finish();
    }
    PrintWriter out = spec.commandLine().getOut();
    if (store.json()) {
      Output.json(out, rep);
    } else if (rep.identical()) {
      out.printf(
          "Reproduced  %s byte for byte (%s bytes, sha256 %s)%n",
          rep.version(), Output.count(rep.registeredBytes()), rep.registeredSha256());
      rep.differences()
          .forEach(
              d ->
                  out.printf(
                      "Note        %s: recorded %s, now %s%n", d.what(), d.recorded(), d.now()));
    } else {
      out.printf("NOT REPRODUCED %s%n", rep.version());
      for (Reproduction.Difference d : rep.differences()) {
        out.printf(
            "  %-20s recorded %s%n  %-20s now      %s%n", d.what(), d.recorded(), "", d.now());
      }
    }
    return rep.identical() ? ExitCodes.OK : ExitCodes.POLICY_FAILED;
  }
}

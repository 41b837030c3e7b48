package io.quantguard.evaluate.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.DataSource;
import io.quantguard.runtime.data.DataSpec;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code --isolate}: measures one model's memory in a fresh JVM, started with this JVM's class
 * path, so nothing another model allocated (or the JVM's heap grown for it) is counted. The child
 * reads the same data, creates the session with the same options, warms up the same way and reports
 * its {@code VmHWM}-based {@link MemoryUse} as one JSON line. {@link #main} is that child: an
 * internal entry point, not a user command.
 */
public final class MemoryProbe {
  private static final String MARKER = "quantguard-memory-probe ";
  private static final ObjectMapper JSON = new ObjectMapper();

  private MemoryProbe() {}

  /** Runs the probe for {@code model} in a child JVM and returns what it measured. */
  static MemoryUse inChildJvm(BenchModel model, BenchPlan plan) {
    SessionConfig c = plan.session();
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("-Xmx")
          || a.startsWith("-Xms")
          || a.startsWith("-Dmaven.repo.local")
          || a.startsWith("-Dquantguard.")) {
        cmd.add(a);
      }
    }
    cmd.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            MemoryProbe.class.getName(),
            model.file().toAbsolutePath().toString(),
            plan.data(),
            plan.batchSizes().stream().map(String::valueOf).collect(Collectors.joining(",")),
            c.optimization().name(),
            String.valueOf(c.intraOpThreads()),
            String.valueOf(c.interOpThreads()),
            c.provider().name(),
            String.valueOf(plan.warmupPasses()),
            String.valueOf(plan.maxSamplesPerPass())));
    StringBuilder log = new StringBuilder();
    String result = null;
    int exit;
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      try (BufferedReader r =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = r.readLine(); line != null; line = r.readLine()) {
          if (line.startsWith(MARKER)) {
            result = line.substring(MARKER.length());
          } else {
            log.append(line).append('\n');
          }
        }
      }
      exit = p.waitFor();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start a child JVM for the isolated memory probe", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while measuring " + model.label(), e);
    }
    if (exit != 0 || result == null) {
      throw new InvalidInputException(
          model.label(),
          "the isolated memory probe failed (exit " + exit + "): " + log.toString().strip(),
          "measure memory in this process to see the error in full");
    }
    try {
      return JSON.readValue(result, MemoryUse.class);
    } catch (IOException e) {
      throw new IllegalStateException("unreadable memory probe output: " + result, e);
    }
  }

  /**
   * The child: {@code MODEL DATA BATCHES OPTIMIZATION INTRA INTER PROVIDER WARMUP MAX_SAMPLES}.
   * Prints the marker line with the {@link MemoryUse} JSON; exits 3 on bad input, 4 otherwise.
   */
  public static void main(String[] args) {
    try {
      if (args.length != 9) {
        throw new IllegalArgumentException("expected 9 arguments, got " + args.length);
      }
      SessionConfig config =
          new SessionConfig(
              SessionConfig.Optimization.parse(args[3]),
              Integer.parseInt(args[4]),
              Integer.parseInt(args[5]),
              SessionConfig.Provider.parse(args[6]));
      RuntimePrimer.prime(config); // as in-process: the runtime's set-up is no model's cost
      DataSource data = DataSpec.parse(args[1]);
      List<InputBatches> inputs = new ArrayList<>();
      for (int b : BenchPlan.parseBatchSizes(args[2])) {
        inputs.add(InputBatches.read(data, b, Integer.parseInt(args[8])));
      }
      BenchModel model = BenchModel.of(Path.of(args[0]));
      try (ModelRun run =
          ModelRun.open(
              model.label(),
              model,
              config,
              inputs,
              Integer.parseInt(args[7]),
              "isolated child JVM")) {
        System.out.println(MARKER + JSON.writeValueAsString(run.memory()));
      }
      System.exit(0);
    } catch (InvalidInputException e) {
      System.err.println(e.getMessage());
      System.exit(3);
    } catch (Exception e) {
      e.printStackTrace();
      System.exit(4);
    }
  }
}

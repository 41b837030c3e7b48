package io.quantguard.cli;

import io.quantguard.cli.registry.RegistryCommand;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.RunEnvironment;
import io.quantguard.runtime.InferenceSession;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code quantguard} command: wires the modules into the quantize–evaluate–gate workflow. */
@Command(
    name = "quantguard",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Versions.class,
    description = "Make ONNX models smaller and faster without quietly making them worse.",
    subcommands = {
      RunCommand.class,
      DemoCommand.class,
      InspectCommand.class,
      QuantizeCommand.class,
      QatCommand.class,
      SensitivityCommand.class,
      TuneCommand.class,
      BenchCommand.class,
      EvaluateCommand.class,
      GateCommand.class,
      RegistryCommand.class,
      AuditCommand.class,
      ServeCommand.class,
      ServeBenchCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main {
  static {
    // Library logging (DJL, ONNX Runtime glue) stays quiet unless something is wrong.
    System.setProperty(
        "org.slf4j.simpleLogger.defaultLogLevel",
        System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
    System.setProperty(
        "org.slf4j.simpleLogger.log.ai.djl",
        System.getProperty("org.slf4j.simpleLogger.log.ai.djl", "error"));
    System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
  }

  private Main() {}

  /** {@code quantguard --version}: QuantGuard's, ONNX Runtime's, Java's and the OS's. */
  static final class Versions implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      RunEnvironment env = RunEnvironment.current(InferenceSession.runtimeVersion());
      return new String[] {
        "quantguard " + env.quantguard(),
        "ONNX Runtime " + env.onnxRuntime(),
        "Java " + env.java() + " on " + env.os()
      };
    }
  }

  public static void main(String[] args) {
    int code;
    try {
      code = run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
    } catch (OutOfMemoryError e) {
      System.err.println(outOfHeap());
      code = ExitCodes.INTERNAL;
    }
    System.exit(code);
  }

  /** What to do when the heap runs out: the JVM's own message names no fix. */
  static String outOfHeap() {
    return "error: the Java heap ("
        + Runtime.getRuntime().maxMemory() / (1 << 20)
        + " MB) ran out; give the JVM more, e.g. QUANTGUARD_JAVA_OPTS=-Xmx4g ./quantguard ...";
  }

  /** Whether {@code t} or an exception behind it is the heap running out (in a worker thread). */
  static boolean outOfMemory(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof OutOfMemoryError) {
        return true;
      }
    }
    return false;
  }

  /** Runs a command line and returns its exit code (used by the tests end to end). */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cl = new CommandLine(new Main());
    cl.setOut(out);
    cl.setErr(err);
    cl.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> {
          if (ex instanceof InvalidInputException e) {
            commandLine.getErr().println("error: " + ParameterFlags.message(e));
            return ExitCodes.BAD_INPUT;
          }
          if (outOfMemory(ex)) {
            commandLine.getErr().println(outOfHeap());
            return ExitCodes.INTERNAL;
          }
          commandLine.getErr().println("internal error: " + ex);
          ex.printStackTrace(commandLine.getErr());
          return ExitCodes.INTERNAL;
        });
    cl.setParameterExceptionHandler(
        (ex, a) -> {
          CommandLine c = ex.getCommandLine();
          c.getErr().println("error: " + ex.getMessage());
          c.getErr().println("(see: " + c.getCommandSpec().qualifiedName() + " --help)");
          return ExitCodes.USAGE;
        });
    return cl.execute(args);
  }
}

package io.quantguard.cli;

import io.quantguard.runtime.Progress;
import io.quantguard.workflow.DefaultProject;
import io.quantguard.workflow.Project;
import io.quantguard.workflow.Workflow;
import io.quantguard.workflow.WorkflowResult;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code quantguard run [quantguard.yaml]}: the whole workflow of a project file (FP32 baseline,
 * recommended approach, tuning against the policy, final evaluation on every slice, gate,
 * registration with lineage), resumable, ending in {@code summary.html}. With no file it runs the
 * built-in project on artifacts from Maven Central ({@link DefaultProject}).
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Carry out a project's whole workflow: FP32 baseline, recommended approach (static, dynamic,"
          + " weight-only or fp16, with the reason), tuning against the policy, final evaluation"
          + " on every slice, the gate verdict and registration with lineage.",
      "Writes OUT/summary.html (linking the detailed reports) and OUT/steps/; running again"
          + " reuses every step whose inputs did not change.",
      "Without a file, runs the built-in example: all-MiniLM-L6-v2 retrieving Europarl sessions"
          + " from their first sentence, everything from Maven Central (its quantguard.yaml is"
          + " written into OUT).",
      "Exits 0 when the candidate passes the policy, 1 when it does not."
    })
final class RunCommand implements Callable<Integer> {
  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "PROJECT",
      description = "the project file (default: the built-in example)")
  @Nullable Path projectFile;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      description = "where steps, reports and summary.html go (default: quantguard-out/NAME)")
  @Nullable Path out;

  @Option(names = "--json", description = "print the result as JSON instead of the summary")
  boolean json;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter w = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Project project;
    Path dir;
    if (projectFile == null) {
      dir = out != null ? out : Path.of("quantguard-out", "run");
      project = DefaultProject.prepare(dir);
      if (!json) {
        w.println(
            "Built-in project " + dir.resolve("quantguard.yaml") + " (edit it and run again)");
      }
    } else {
      project = Project.read(projectFile);
      dir = out != null ? out : Path.of("quantguard-out", project.name());
    }
    Progress bar = TerminalProgress.forTerminal(err, json);
    PrintWriter steps = json ? new PrintWriter(PrintWriter.nullWriter()) : w;
    WorkflowResult r =
        Workflow.builder()
            .project(project)
            .out(dir)
            .listener(
                new Workflow.Listener() {
                  @Override
                  public void stepStarted(int index, int total, String step, String title) {
                    steps.printf(Locale.ROOT, "%d/%d  %s%n", index, total, title);
                    steps.flush();
                  }

                  @Override
                  public void stepFinished(Workflow.Step s) {
                    if (bar instanceof TerminalProgress t) {
                      t.finish();
                    }
                    steps.printf(
                        Locale.ROOT,
                        "     %s  [%s]%n",
                        s.line(),
                        s.reused() ? "reused" : String.format(Locale.ROOT, "%.0f s", s.seconds()));
                    steps.flush();
                  }

                  @Override
                  public void log(String line) {
                    if (!json) {
                      err.println("     " + line);
                      err.flush();
                    }
                  }

                  @Override
                  public Progress progress() {
                    return bar;
                  }
                })
            .build()
            .run();
    if (json) {
      Output.json(w, r);
    } else {
      w.println();
      w.println(
          (r.passed() ? "PASS" : "FAIL")
              + "  "
              + r.registered().candidate()
              + " against policy '"
              + r.verdict().policy()
              + "'");
      if (r.rollout() != null) {
        w.println("Rollout     " + r.rollout().status() + "; serve it: " + r.rollout().serve());
      }
      w.println("Summary     " + r.summary());
    }
    w.flush();
    return r.passed() ? ExitCodes.OK : ExitCodes.POLICY_FAILED;
  }
}

package io.quantguard.report;

import io.quantguard.onnx.InvalidInputException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The CI gate as a library call: judges a policy against the {@code report.json} an evaluation
 * wrote, from the files alone (no models, no data, no ONNX Runtime), and writes the JUnit XML and
 * Markdown summaries a pipeline shows.
 *
 * <pre>{@code
 * Gate.Result r = Gate.builder()
 *     .policy(Path.of("release.yaml"))
 *     .report(Path.of("eval/report.json"))
 *     .junit(Path.of("ci/junit.xml"))
 *     .build()
 *     .run();
 * if (!r.judgement().passed()) { ... }
 * }</pre>
 *
 * <p>Nothing is written when the policy or the report cannot be read or does not fit (a rule on a
 * metric the report does not carry): those are {@link InvalidInputException}s.
 */
public final class Gate {
  private final Path policy;
  private final Path report;
  private final List<String> candidates;
  private final @Nullable Path junit;
  private final @Nullable Path markdown;

  private Gate(Path policy, Path report, Builder b) {
    this.policy = policy;
    this.report = report;
    this.candidates = List.copyOf(b.candidates);
    this.junit = b.junit;
    this.markdown = b.markdown;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * What the gate decided and the files it wrote.
   *
   * @param written the JUnit XML and Markdown files, in that order, where asked for
   */
  public record Result(Judgement judgement, List<Path> written) {
    public Result {
      written = List.copyOf(written);
    }

    public boolean passed() {
      return judgement.passed();
    }
  }

  /** Reads the policy (first, so a bad policy is refused before the report is read), judges. */
  public Result run() {
    Policy p = Policy.read(policy);
    EvaluationReport r = ReportReader.read(report);
    Judgement j = p.judge(r.measurements(), candidates);
    List<Path> written = new ArrayList<>();
    if (junit != null) {
      written.add(JUnitReport.write(j, junit));
    }
    if (markdown != null) {
      written.add(PolicyReport.writeMarkdown(j, markdown));
    }
    return new Result(j, written);
  }

  /** Sets up a {@link Gate}; the policy and the report are required. */
  public static final class Builder {
    private @Nullable Path policy;
    private @Nullable Path report;
    private final List<String> candidates = new ArrayList<>();
    private @Nullable Path junit;
    private @Nullable Path markdown;

    private Builder() {}

    /** The policy file (YAML or JSON). */
    public Builder policy(Path file) {
      this.policy = file;
      return this;
    }

    /** The {@code report.json} an evaluation wrote, or the directory that holds it. */
    public Builder report(Path fileOrDirectory) {
      this.report = fileOrDirectory;
      return this;
    }

    /** Judges only this candidate, by its name in the report (repeatable; default: all). */
    public Builder candidate(String name) {
      this.candidates.add(name);
      return this;
    }

    /** Also writes JUnit XML here: one test suite per candidate, one test case per check. */
    public Builder junit(@Nullable Path file) {
      this.junit = file;
      return this;
    }

    /** Also writes the Markdown summary for a pull request here. */
    public Builder markdown(@Nullable Path file) {
      this.markdown = file;
      return this;
    }

    public Gate build() {
      Path p = policy;
      Path r = report;
      if (p == null) {
        throw InvalidInputException.forParameter(
            "gate.policy", null, "is required", "name the policy file to judge the report by");
      }
      if (r == null) {
        throw InvalidInputException.forParameter(
            "gate.report", null, "is required", "name the report.json an evaluation wrote");
      }
      return new Gate(p, r, this);
    }
  }
}

package io.quantguard.workflow;

import io.quantguard.evaluate.Evaluation;
import io.quantguard.evaluate.Slicer;
import io.quantguard.evaluate.Tasks;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.MetricEstimate;
import io.quantguard.report.ReportWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The two evaluation steps: the FP32 baseline on every test slice (against a second run of itself,
 * which shows the latency noise), and the candidate's final evaluation on every test and
 * confirmation slice. Each writes its full report beside the step's record.
 */
final class Evaluating {
  private Evaluating() {}

  static Workflow.Baseline baseline(
      ProjectInputs in, Path model, List<Evaluation.Data> test, Path dir) {
    Project project = in.project;
    Evaluation.Builder b =
        in.evaluation(model)
            .candidate("fp32-again", model)
            .task(Tasks.parse(project.task()), project.task());
    test.forEach(d -> b.data(d.name(), d.source()));
    EvaluationReport r = b.build().run();
    ReportWriter.write(r, dir.resolve("report"));
    EvaluationReport.ModelReport fp32 = r.baseline();
    MetricEstimate primary = fp32.all().metrics().get(0);
    Map<String, @Nullable Double> perSlice = new LinkedHashMap<>();
    for (EvaluationReport.SliceResult s : fp32.slices()) {
      s.metric(primary.name()).ifPresent(m -> perSlice.put(s.slice(), m.value()));
    }
    return new Workflow.Baseline(
        primary.name(), perSlice, primary.value(), fp32.cost().latency().p95());
  }

  static Workflow.Final finalEvaluation(
      ProjectInputs in,
      Path model,
      Path candidateFile,
      List<Evaluation.Data> test,
      List<Evaluation.Data> confirm,
      Path dir) {
    Project project = in.project;
    Evaluation.Builder b =
        in.evaluation(model)
            .candidate("candidate", candidateFile)
            .task(Tasks.parse(project.task()), project.task());
    Set<String> names = new LinkedHashSet<>();
    for (Evaluation.Data d : test) {
      b.data(d.name(), d.source());
      names.add(d.name());
    }
    for (Evaluation.Data d : confirm) {
      if (names.add(d.name())) {
        b.data(d.name(), d.source());
      }
    }
    if (project.data().sliceBy() != null) {
      b.sliceBy(Slicer.parse(project.data().sliceBy()));
    }
    EvaluationReport r = b.build().run();
    ReportWriter.write(r, dir.resolve("report"));
    EvaluationReport.ModelReport fp32 = r.baseline();
    EvaluationReport.ModelReport cand = r.candidates().get(0);
    MetricEstimate m = cand.all().metrics().get(0);
    double latencyRatio = cand.cost().latency().p95() / fp32.cost().latency().p95();
    double sizeRatio = (double) cand.sizeBytes() / fp32.sizeBytes();
    return new Workflow.Final(
        m.name(),
        m.baseline(),
        m.value(),
        m.delta(),
        latencyRatio,
        sizeRatio,
        cand.worstSlice() == null ? null : cand.worstSlice().slice());
  }
}

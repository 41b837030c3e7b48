package io.quantguard.evaluate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.TestModels;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.Format;
import io.quantguard.report.JUnitReport;
import io.quantguard.report.Judgement;
import io.quantguard.report.MetricEstimate;
import io.quantguard.report.Policy;
import io.quantguard.report.PolicyReport;
import io.quantguard.report.ReportReader;
import io.quantguard.report.ReportWriter;
import io.quantguard.report.RuleVerdict;
import io.quantguard.runtime.data.DataSpec;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Policies judged on a real evaluation: the Fashion-MNIST CNN on 2,000 test images against itself
 * ("same") and against a copy with noisy fully connected weights ("noisy", about 4 points of
 * accuracy lost), sliced by label. Expected numbers are recomputed from the report itself.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PolicyJudgementTest {
  private EvaluationReport report;
  private final Path out = Path.of("target", "policy-cnn");

  @BeforeAll
  void evaluate() throws Exception {
    Path cnn = TestModels.fashionCnn();
    Files.createDirectories(out);
    Path noisy = CnnVariants.noisy(cnn, out.resolve("cnn-noisy.onnx"), 0.5, 7);
    Path images = TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz");
    report =
        Evaluation.builder()
            .baseline("fp32", cnn)
            .candidate("same", cnn)
            .candidate("noisy", noisy)
            .task(Tasks.parse("classification"), "classification")
            .data("test", DataSpec.parse("idx:" + images + "?input=image&limit=2000"))
            .sliceBy(Slicer.parse("label"))
            .batchSize(100)
            .bootstrap(new Bootstrap(200, 0.95, 42))
            .build()
            .run();
  }

  private static Policy policy(String yaml) {
    return Policy.parse(yaml, "policy.yaml");
  }

  private MetricEstimate metric(String model, String slice, String name) {
    return report.model(model).orElseThrow().slice(slice).orElseThrow().metric(name).orElseThrow();
  }

  @Test
  void anAbsoluteDropIsMeasuredAgainstTheBaselineWithItsMargin() {
    Judgement j = policy("rules:\n  accuracy: {max_drop: 0.5%}\n").judge(report);
    assertThat(j.candidates()).containsExactly("same", "noisy");
    assertThat(j.verdicts()).hasSize(2);
    RuleVerdict same = j.verdicts("same").get(0);
    assertThat(same.outcome()).isEqualTo(RuleVerdict.Outcome.PASS);
    assertThat(same.slice()).isEqualTo("all");
    assertThat(same.samples()).isEqualTo(2000);
    assertThat(same.measured()).isZero();
    assertThat(same.margin()).isCloseTo(0.005, within(1e-15));
    RuleVerdict noisy = j.verdicts("noisy").get(0);
    MetricEstimate acc = metric("noisy", "all", "accuracy");
    assertThat(acc.delta()).as("the perturbation costs accuracy").isLessThan(-0.01);
    assertThat(noisy.outcome()).isEqualTo(RuleVerdict.Outcome.FAIL);
    assertThat(noisy.measured()).isEqualTo(-acc.delta());
    assertThat(noisy.value()).isEqualTo(acc.value());
    assertThat(noisy.baseline()).isEqualTo(acc.baseline());
    assertThat(noisy.margin()).isCloseTo(0.005 + acc.delta(), within(1e-15)).isNegative();
    assertThat(noisy.message())
        .startsWith("accuracy drop " + Format.num(-acc.delta()))
        .contains("exceeds max_drop 0.5%");
    assertThat(j.passed()).isFalse();
    assertThat(j.passed("same")).isTrue();
    assertThat(j.failures()).containsExactly(noisy);
  }

  @Test
  void relativeAndAbsoluteDropsJudgeTheSameNumberDifferently() {
    MetricEstimate f1 = metric("noisy", "all", "macro_f1");
    double drop = -f1.delta();
    double relative = drop / f1.baseline();
    // A limit just above the absolute drop holds; one just below the relative drop does not.
    String yaml =
        String.format(
            Locale.ROOT,
            "rules:\n  macro_f1: {max_drop: %.6f, max_drop_relative: %.6f}\n",
            drop + 0.0005,
            relative - 0.0005);
    List<RuleVerdict> vs = policy(yaml).judge(report.measurements(), List.of("noisy")).verdicts();
    assertThat(vs).hasSize(2);
    assertThat(vs.get(0).outcome()).isEqualTo(RuleVerdict.Outcome.PASS);
    assertThat(vs.get(0).measured()).isCloseTo(drop, within(1e-15));
    assertThat(vs.get(1).outcome()).isEqualTo(RuleVerdict.Outcome.FAIL);
    assertThat(vs.get(1).measured()).isCloseTo(relative, within(1e-12));
    assertThat(vs.get(1).margin()).isCloseTo(-0.0005, within(1e-6));
    assertThat(vs.get(1).measuredText()).endsWith(" %");
  }

  @Test
  void perSliceRulesJudgeEverySliceAndSkipSmallOnes() {
    Judgement j =
        policy("rules:\n  macro_f1: {max_drop_relative: 1%, per_slice: true}\n").judge(report);
    List<String> slices =
        report.model("noisy").orElseThrow().slices().stream()
            .map(EvaluationReport.SliceResult::slice)
            .toList();
    assertThat(slices).hasSize(11).contains("all", "label=0", "label=9");
    assertThat(j.verdicts("noisy"))
        .extracting(RuleVerdict::slice)
        .containsExactlyElementsOf(slices);
    assertThat(j.verdicts("same"))
        .allSatisfy(v -> assertThat(v.outcome()).isEqualTo(RuleVerdict.Outcome.PASS));
    List<String> expectedFailures = new ArrayList<>();
    for (String s : slices) {
      MetricEstimate m = metric("noisy", s, "macro_f1");
      if (-m.delta() / m.baseline() > 0.01) {
        expectedFailures.add(s);
      }
    }
    assertThat(expectedFailures).as("noise hurts some classes").isNotEmpty();
    assertThat(j.failures())
        .extracting(RuleVerdict::slice)
        .containsExactlyElementsOf(expectedFailures);

    Judgement large =
        policy("rules:\n  macro_f1: {max_drop_relative: 1%, per_slice: true, min_samples: 1000}\n")
            .judge(report.measurements(), List.of("noisy"));
    assertThat(large.verdicts()).hasSize(11);
    assertThat(large.verdicts().subList(1, 11))
        .as("each label slice holds about 200 of the 2,000 samples")
        .allSatisfy(
            v -> {
              assertThat(v.outcome()).isEqualTo(RuleVerdict.Outcome.SKIPPED);
              assertThat(v.note()).contains("fewer than min_samples 1000");
            });
    assertThat(large.verdicts().get(0).slice()).as("all data is always judged").isEqualTo("all");
    assertThat(large.verdicts().get(0).outcome()).isEqualTo(RuleVerdict.Outcome.FAIL);
  }

  @Test
  void theWorstBoundIsTheIntervalEndThatIsWorstForTheCandidate() {
    MetricEstimate flips = metric("noisy", "all", "flip_rate");
    MetricEstimate acc = metric("noisy", "all", "accuracy");
    Judgement j =
        policy(
                """
                rules:
                  flip_rate: {max: 20%, use: worst_bound}
                  accuracy: [{max_drop: 20%, use: worst_bound}, {min: 0.5, use: worst_bound}]
                """)
            .judge(report.measurements(), List.of("noisy"));
    assertThat(j.verdicts())
        .extracting(RuleVerdict::measured)
        .containsExactly(flips.high(), -acc.deltaLow(), acc.low());
    assertThat(flips.high()).isGreaterThan(flips.value());
    assertThat(-acc.deltaLow()).isGreaterThan(-acc.delta());
    assertThat(j.passed()).isTrue();
  }

  @Test
  void flipRateTakesAValueLimitButNoDrop() {
    Judgement j = policy("rules:\n  flip_rate: {max: 2%}\n").judge(report);
    assertThat(j.verdicts("same").get(0).measured()).isZero();
    assertThat(j.passed("same")).isTrue();
    assertThat(j.verdicts("noisy").get(0).measured())
        .isEqualTo(metric("noisy", "all", "flip_rate").value())
        .isGreaterThan(0.02);
    assertThat(j.passed("noisy")).isFalse();
    assertThatThrownBy(() -> policy("rules:\n  flip_rate: {max_drop: 1%}\n").judge(report))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("rule 'flip_rate max_drop 1%'")
        .hasMessageContaining("already compares the candidate with the baseline")
        .hasMessageContaining("min or max");
  }

  @Test
  void aMetricTheReportLacksIsAnErrorListingTheAvailableOnes() {
    assertThatThrownBy(() -> policy("rules:\n  cosine_mean: {min: 0.99}\n").judge(report))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("policy.yaml")
        .hasMessageContaining("the report has no metric 'cosine_mean' (task classification)")
        .hasMessageContaining("metrics in the report: accuracy, macro_f1, top5_accuracy, ece")
        .hasMessageContaining("flip_rate")
        .hasMessageContaining("mcnemar_p")
        .hasMessageContaining("latency_p95")
        .hasMessageContaining("size");
    assertThatThrownBy(
            () ->
                policy("rules:\n  accuracy: {max: 1}\n").judge(report.measurements(), List.of("x")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("candidate 'x'")
        .hasMessageContaining("candidates: same, noisy");
  }

  @Test
  void costRulesCompareWithTheBaselineModel() {
    EvaluationReport r = withP95(report, 10.0, 6.0);
    Judgement j =
        policy(
                """
                rules:
                  latency_p95: {max_ratio: 0.7}
                  size: {max_ratio: 0.3}
                  throughput: {min_ratio: 1}
                """)
            .judge(r.measurements(), List.of("noisy"));
    RuleVerdict latency = j.verdicts().get(0);
    assertThat(latency.measured()).isCloseTo(0.6, within(1e-12));
    assertThat(latency.margin()).isCloseTo(0.1, within(1e-12));
    assertThat(latency.outcome()).isEqualTo(RuleVerdict.Outcome.PASS);
    assertThat(latency.measuredText()).isEqualTo("×0.6000");
    RuleVerdict size = j.verdicts().get(1);
    assertThat(size.measured()).as("the same file size").isEqualTo(1.0);
    assertThat(size.outcome()).isEqualTo(RuleVerdict.Outcome.FAIL);
    assertThat(size.margin()).isCloseTo(-0.7, within(1e-12));
    assertThat(j.verdicts().get(2).measured())
        .isCloseTo(
            report.model("noisy").orElseThrow().cost().throughput()
                / report.baseline().cost().throughput(),
            within(1e-12));
    assertThatThrownBy(
            () -> policy("rules:\n  latency_p95: {max_ratio: 1, per_slice: true}\n").judge(r))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("measured per model, not per slice");
    assertThatThrownBy(() -> policy("rules:\n  size: {max_ratio: 1, use: worst_bound}\n").judge(r))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("needs a confidence interval");
  }

  @Test
  void aLimitOnAFractionWrittenInPointsIsJudgedAsWrittenButWarnedAbout() {
    Judgement j = policy("rules:\n  accuracy: {max_drop: 0.5}\n").judge(report);
    assertThat(j.passed()).isTrue();
    assertThat(j.warnings())
        .singleElement()
        .asString()
        .contains("allows a drop of 50 points")
        .contains("0.5%");
    assertThat(policy("rules:\n  accuracy: {max_drop: 0.5%}\n").judge(report).warnings()).isEmpty();
  }

  @Test
  void aPerSliceRuleOnAReportWithoutSlicesIsJudgedOnAllDataAndWarnedAbout() {
    String yaml = "rules:\n  accuracy: {max_drop: 2%, per_slice: true}\n";
    assertThat(policy(yaml).judge(report).warnings()).as("sliced by label").isEmpty();
    Judgement j = policy(yaml).judge(withoutSlices(report));
    assertThat(j.verdicts()).extracting(RuleVerdict::slice).containsOnly("all");
    assertThat(j.warnings())
        .singleElement()
        .asString()
        .contains("accuracy max_drop 2% per slice")
        .contains("the report has no slices")
        .contains("judged on all data only");
  }

  /** The report as an evaluation without {@code --slice-by} writes it: only the slice "all". */
  private static EvaluationReport withoutSlices(EvaluationReport r) {
    List<EvaluationReport.ModelReport> models = new ArrayList<>();
    for (EvaluationReport.ModelReport m : r.models()) {
      models.add(
          new EvaluationReport.ModelReport(
              m.name(),
              m.role(),
              m.file(),
              m.sizeBytes(),
              List.of(m.all()),
              null,
              m.cost(),
              m.verdict()));
    }
    return new EvaluationReport(
        r.schema(),
        r.tool(),
        r.task(),
        r.data(),
        r.settings(),
        models,
        r.hygiene(),
        r.peakRssBytes(),
        r.warnings(),
        r.calibrationCoverage());
  }

  @Test
  void judgingReportJsonGivesTheSameVerdictsAsTheReportObject() {
    Policy p =
        policy(
            """
            rules:
              accuracy: {max_drop: 0.5%, use: worst_bound}
              macro_f1: {max_drop_relative: 1%, per_slice: true}
              flip_rate: {max: 2%}
              mcnemar_p: {min: 0.05}
              latency_p95: {max_ratio: 100}
              size: {max_ratio: 1}
            """);
    Judgement direct = p.judge(report);
    EvaluationReport parsed = ReportReader.parse(ReportWriter.json(report), "report.json");
    assertThat(p.judge(parsed)).isEqualTo(direct);
    String withPolicy = PolicyReport.reportJson(report, direct);
    assertThat(withPolicy).contains("\"policy\" : {");
    assertThat(p.judge(ReportReader.parse(withPolicy, "report.json")))
        .as("a report that already carries verdicts reads the same")
        .isEqualTo(direct);
    assertThatThrownBy(() -> ReportReader.parse("{\"schema\": \"other/2\"}", "x.json"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("x.json: has schema 'other/2', not quantguard.evaluate/1");
    assertThatThrownBy(() -> ReportReader.parse("[1, 2", "x.json"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("x.json");
  }

  @Test
  void junitXmlHasOneSuitePerCandidateAndOneCasePerRuleAndSlice() throws Exception {
    Judgement j =
        policy(
                """
                name: strict
                rules:
                  accuracy: {max_drop: 0.5%}
                  macro_f1: {max_drop_relative: 1%, per_slice: true}
                  flip_rate: {max: 2%}
                """)
            .judge(report);
    Path file = JUnitReport.write(j, out.resolve("gate/junit.xml"));
    Document doc =
        DocumentBuilderFactory.newInstance()
            .newDocumentBuilder()
            .parse(new ByteArrayInputStream(Files.readAllBytes(file)));
    Element root = doc.getDocumentElement();
    assertThat(root.getTagName()).isEqualTo("testsuites");
    NodeList suites = root.getElementsByTagName("testsuite");
    assertThat(suites.getLength()).isEqualTo(2);
    Element noisy = (Element) suites.item(1);
    assertThat(noisy.getAttribute("name")).isEqualTo("noisy");
    assertThat(noisy.getElementsByTagName("testcase").getLength()).isEqualTo(1 + 11 + 1);
    int failures = noisy.getElementsByTagName("failure").getLength();
    assertThat(failures).isEqualTo(j.failures().size()).isGreaterThanOrEqualTo(3);
    assertThat(noisy.getAttribute("failures")).isEqualTo(Integer.toString(failures));
    Element first = (Element) noisy.getElementsByTagName("failure").item(0);
    assertThat(first.getAttribute("message")).contains("accuracy drop").contains("max_drop 0.5%");
    assertThat(first.getTextContent()).contains("measured: drop").contains("margin:   −");
    Element same = (Element) suites.item(0);
    assertThat(same.getElementsByTagName("failure").getLength()).isZero();
    assertThat(root.getAttribute("tests")).isEqualTo(Integer.toString(j.verdicts().size()));

    String md = PolicyReport.markdown(j);
    assertThat(md)
        .startsWith("## ❌ Policy strict: failed")
        .contains("| same | ✅ passed |")
        .contains("### ❌ noisy")
        .contains(
            "| accuracy max_drop 0.5% | all | "
                + Format.num(-metric("noisy", "all", "accuracy").delta()))
        .contains("slices fail")
        .contains("❌ **fail**");
    String text = PolicyReport.text(j);
    assertThat(text).startsWith("Policy strict: FAILED").contains("noisy: FAILED").contains("FAIL");
    assertThat(PolicyReport.json(j)).contains("\"outcome\" : \"fail\"").contains("\"margin\" :");
  }

  @Test
  void evaluationReportsCarryTheVerdicts() throws Exception {
    Judgement j = policy("rules:\n  accuracy: {max_drop: 0.5%}\n").judge(report);
    Path dir = out.resolve("judged");
    PolicyReport.write(report, j, dir);
    EvaluationReport back = ReportReader.read(dir);
    assertThat(back.candidates()).hasSize(2);
    String json = Files.readString(dir.resolve("report.json"), StandardCharsets.UTF_8);
    assertThat(json).contains("\"policy\" : {").contains("\"passed\" : false");
    String md = Files.readString(dir.resolve("report.md"), StandardCharsets.UTF_8);
    assertThat(md.indexOf("### ❌ Policy policy: failed"))
        .as("the verdicts come right after the introduction")
        .isPositive()
        .isLessThan(md.indexOf("### Verdict"));
    assertThat(dir.resolve("report.html")).isRegularFile();
  }

  /** The report with the baseline's and every candidate's p95 latency replaced. */
  private static EvaluationReport withP95(EvaluationReport r, double baseline, double candidates) {
    List<EvaluationReport.ModelReport> models = new ArrayList<>();
    for (EvaluationReport.ModelReport m : r.models()) {
      EvaluationReport.Latency l = m.cost().latency();
      EvaluationReport.Latency changed =
          new EvaluationReport.Latency(
              l.batchSize(),
              l.batches(),
              l.mean(),
              l.p50(),
              l.p90(),
              m.role().equals("baseline") ? baseline : candidates,
              l.p99(),
              l.max(),
              l.perSampleMean(),
              l.cdf());
      EvaluationReport.Cost c = m.cost();
      models.add(
          new EvaluationReport.ModelReport(
              m.name(),
              m.role(),
              m.file(),
              m.sizeBytes(),
              m.slices(),
              m.worstSlice(),
              new EvaluationReport.Cost(
                  changed, c.throughput(), c.cpuSeconds(), c.energy(), c.loadRssBytes()),
              m.verdict()));
    }
    return new EvaluationReport(
        r.schema(),
        r.tool(),
        r.task(),
        r.data(),
        r.settings(),
        models,
        r.hygiene(),
        r.peakRssBytes(),
        r.warnings(),
        r.calibrationCoverage());
  }
}

package io.quantguard.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.onnx.RunEnvironment;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Reports written before the environment was one record still read, and judge as before. */
class ReportReaderTest {
  /** A report as the first release wrote it: "tool" without cpuModel. */
  static final String OLD =
      """
      {"schema": "quantguard.evaluate/1",
       "tool": {"quantguard": "0.1.0-SNAPSHOT", "onnxRuntime": "1.23.2", "java": "17.0.15",
                "os": "Linux amd64", "cpus": 2},
       "task": {"name": "classification", "spec": "classification"},
       "data": [], "warnings": [],
       "models": [
         {"name": "fp32", "role": "baseline", "sizeBytes": 100,
          "slices": [{"slice": "all", "samples": 500, "figures": {},
                      "metrics": [{"name": "accuracy", "higherIsBetter": true,
                                   "vsBaseline": false, "value": 0.92}]}]},
         {"name": "int8", "role": "candidate", "sizeBytes": 30,
          "slices": [{"slice": "all", "samples": 500, "figures": {},
                      "metrics": [{"name": "accuracy", "higherIsBetter": true,
                                   "vsBaseline": false, "value": 0.915, "baseline": 0.92,
                                   "delta": -0.005}]}]}]}
      """;

  @Test
  void readsTheFirstReleasesToolFieldsAndJudgesTheReport() {
    EvaluationReport r = ReportReader.parse(OLD, "old.json");
    assertThat(r.tool())
        .isEqualTo(
            new RunEnvironment("0.1.0-SNAPSHOT", "1.23.2", "17.0.15", "Linux amd64", 2, null));
    Judgement j = Policy.parse("rules:\n  accuracy: {max_drop: 0.4%}\n", "p.yaml").judge(r);
    assertThat(j.candidates()).isEqualTo(List.of("int8"));
    assertThat(j.passed()).isFalse();
    assertThat(j.verdicts().get(0).measured()).isEqualTo(0.005);
  }
}

package io.quantguard.evaluate;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.report.EvaluationReport;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InputHashesTest {
  private static Batch images(float[][] rows, long offset) {
    float[] x = new float[rows.length * 4];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, x, i * 4, 4);
    }
    return new Batch(Map.of("image", Tensor.ofFloats(x, rows.length, 4)), null, List.of(), offset);
  }

  @Test
  void countsDuplicatesWithinTestAndAgainstCalibration() {
    InputHashes h = new InputHashes();
    h.addCalibration(images(new float[][] {{1, 2, 3, 4}, {9, 9, 9, 9}}, 0));
    h.addTest("t", images(new float[][] {{1, 2, 3, 4}, {0, 0, 0, 1}, {0, 0, 0, 1}}, 0));
    h.addTest("t", images(new float[][] {{0, 0, 0, 1}, {5, 5, 5, 5}}, 3));
    EvaluationReport.Hygiene s = h.summary();
    assertThat(s.testSamples()).isEqualTo(5);
    assertThat(s.distinctTestInputs()).isEqualTo(3);
    assertThat(s.duplicateTestSamples()).isEqualTo(2);
    assertThat(s.calibrationSamples()).isEqualTo(2);
    assertThat(s.testSamplesInCalibration()).isEqualTo(1);
    assertThat(s.examples()).contains("t#2 duplicates t#1", "t#0 is also in the calibration data");
  }

  @Test
  void paddingDoesNotMakeTheSameTextDifferent() {
    Batch shortPad =
        new Batch(
            Map.of(
                "input_ids", Tensor.ofLongs(new long[] {101, 7, 102}, 1, 3),
                "attention_mask", Tensor.ofLongs(new long[] {1, 1, 1}, 1, 3)),
            null,
            List.of(),
            0);
    Batch longPad =
        new Batch(
            Map.of(
                "input_ids", Tensor.ofLongs(new long[] {101, 7, 102, 0, 0}, 1, 5),
                "attention_mask", Tensor.ofLongs(new long[] {1, 1, 1, 0, 0}, 1, 5)),
            null,
            List.of(),
            1);
    InputHashes h = new InputHashes();
    h.addTest("text", shortPad);
    h.addTest("text", longPad);
    assertThat(h.summary().duplicateTestSamples()).isEqualTo(1);
  }
}

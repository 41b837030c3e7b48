package io.quantguard.tune;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.runtime.data.DataSpec;
import org.junit.jupiter.api.Test;

class SensitivityAnalysisTest {
  @Test
  void ranksTheCnnsQuantizedNodes() {
    String images =
        "idx:" + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz") + "?input=image";
    String test =
        "idx:"
            + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz")
            + "?input=image&limit=256";
    Recipe w4 =
        RecipeIO.parse(
            "weights: {type: int4, method: minmax}\ncalibration: {samples: 500}", "w4a8");
    SensitivityReport r =
        SensitivityAnalysis.run(
            ModelIO.load(TestModels.fashionCnn()),
            w4,
            DataSpec.parse(images),
            DataSpec.parse(test),
            SensitivityAnalysis.Options.defaults());
    System.out.println("CNN W4A8 sensitivity: full " + r.fullOutputSqnrDb() + " dB; " + r.nodes());
    assertThat(r.nodes())
        .extracting(SensitivityReport.NodeSensitivity::opType)
        .containsExactlyInAnyOrder("Conv", "Conv", "Gemm", "Gemm");
    assertThat(r.validationSamples()).isEqualTo(256);
    assertThat(r.evaluations()).isEqualTo(5);
    for (int i = 1; i < r.nodes().size(); i++) {
      assertThat(r.nodes().get(i).outputSqnrDb())
          .isGreaterThanOrEqualTo(r.nodes().get(i - 1).outputSqnrDb());
    }
    // Quantizing everything loses more than quantizing any one node.
    assertThat(r.fullOutputSqnrDb()).isLessThan(r.nodes().get(0).outputSqnrDb());
    assertThat(r.nodes())
        .allMatch(n -> n.outputSqnrDb() > 5 && Double.isFinite(n.nodeOutputSqnrDb()));
    assertThat(r.tensors()).isNotEmpty().allMatch(t -> t.sqnrDb() > 20);
    assertThat(r.taskImpact()).isNull();
  }

  @Test
  void measuresTheTaskMetricForTheMostSensitiveNodes() {
    String images =
        "idx:" + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz") + "?input=image";
    String test =
        "idx:"
            + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz")
            + "?input=image&limit=2000";
    Recipe w4 =
        RecipeIO.parse(
            "weights: {type: int4, method: minmax}\ncalibration: {samples: 500}", "w4a8");
    SensitivityAnalysis.Options d = SensitivityAnalysis.Options.defaults();
    SensitivityReport r =
        SensitivityAnalysis.run(
            ModelIO.load(TestModels.fashionCnn()),
            w4,
            DataSpec.parse(images),
            DataSpec.parse(test),
            new SensitivityAnalysis.Options(
                d.budget(), "classification", 2, d.session(), d.progress()));
    SensitivityReport.TaskImpact t = r.taskImpact();
    System.out.println("CNN W4A8 task impact: " + t);
    assertThat(t.metric()).isEqualTo("accuracy");
    assertThat(t.fp32()).isBetween(0.9, 0.95);
    // W4A8 everywhere loses accuracy; quantizing one node alone loses less than all of them.
    assertThat(t.allQuantized()).isLessThan(t.fp32());
    assertThat(t.nodes())
        .extracting(SensitivityReport.NodeTaskImpact::node)
        .containsExactly(r.nodes().get(0).node(), r.nodes().get(1).node());
    assertThat(t.nodes()).allMatch(n -> n.onlyThisQuantized() >= t.allQuantized());
    assertThat(r.evaluations()).isEqualTo(6);
  }
}

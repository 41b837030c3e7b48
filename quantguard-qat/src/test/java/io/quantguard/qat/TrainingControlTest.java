package io.quantguard.qat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TestModels;
import io.quantguard.quantize.Recipe;
import io.quantguard.runtime.Progress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The controls of a fine-tune on the Fashion-MNIST CNN: a run killed after a checkpoint continues
 * from it to exactly the weights of an uninterrupted run; validation with patience stops a run that
 * gets worse and leaves the best values; the schedules give the rates they promise; a damaged
 * checkpoint or one from other settings is refused by name.
 */
class TrainingControlTest {
  private static OnnxModel fp32;

  @BeforeAll
  static void load() {
    fp32 = ModelIO.load(TestModels.fashionCnn());
  }

  private static FineTuning.Builder run(TrainableGraph g) {
    return FineTuning.builder(g)
        .data(Classifier.sample("train-images-idx3-ubyte.gz", 192))
        .output("logits")
        .batchSize(32)
        .learningRate(1e-3f)
        .schedule(LearningRateSchedule.COSINE, 2)
        .seed(3);
  }

  private static Map<String, float[]> weights(TrainableGraph g) {
    Map<String, float[]> w = new LinkedHashMap<>();
    for (Map.Entry<String, NDArray> p : g.parameters().entrySet()) {
      w.put(p.getKey(), p.getValue().toFloatArray());
    }
    return w;
  }

  @Test
  void aRunKilledAfterACheckpointContinuesToTheSameWeights(@TempDir Path dir) {
    Map<String, float[]> straight;
    try (TrainableGraph g = TrainableGraph.builder(fp32).build()) {
      FineTuning.Result r = run(g).run();
      assertThat(r.steps()).isEqualTo(6);
      straight = weights(g);
    }
    try (TrainableGraph g = TrainableGraph.builder(fp32).build()) {
      Progress killAtStep4 =
          (stage, done, total) -> {
            if (done == 4) {
              throw new IllegalStateException("killed");
            }
          };
      assertThatThrownBy(() -> run(g).checkpoints(dir, 3).progress(killAtStep4).run())
          .hasMessage("killed");
    }
    assertThat(dir.resolve(Checkpoint.FILE)).exists();
    try (TrainableGraph g = TrainableGraph.builder(fp32).build()) {
      FineTuning.Result r = run(g).checkpoints(dir, 3).run();
      assertThat(r.resumedFrom()).isEqualTo(3);
      assertThat(r.steps()).isEqualTo(6);
      Map<String, float[]> resumed = weights(g);
      for (String name : straight.keySet()) {
        float[] a = straight.get(name);
        float[] b = resumed.get(name);
        for (int i = 0; i < a.length; i++) {
          assertThat(b[i]).as(name + "[" + i + "]").isCloseTo(a[i], within(1e-6f));
        }
        assertThat(b).as(name).isNotEqualTo(fp32.floats(name));
      }
    }
  }

  @Test
  void patienceStopsARunThatGetsWorseAndKeepsTheBestValues() {
    try (TrainableGraph g = TrainableGraph.builder(fp32).build()) {
      // SGD at a rate far too high: the validation loss climbs after the first steps
      FineTuning.Result r =
          FineTuning.builder(g)
              .data(Classifier.sample("train-images-idx3-ubyte.gz", 640))
              .output("logits")
              .batchSize(32)
              .optimizer(Optimizer.SGD)
              .learningRate(0.5f)
              .validation(Classifier.sample("t10k-images-idx3-ubyte.gz", 256), 1)
              .patience(2)
              .run();
      System.out.println("SGD at 0.5 with patience 2: " + r);
      assertThat(r.stoppedEarly()).isTrue();
      assertThat(r.steps()).isLessThan(20);
      assertThat(r.bestStep()).isLessThanOrEqualTo(r.steps() - 2);
      double now = Classifier.loss(g, Classifier.sample("t10k-images-idx3-ubyte.gz", 256));
      assertThat(now).isCloseTo(r.validationLoss(), within(1e-3));
    }
  }

  @Test
  void patienceWithoutValidationDataIsRefusedBeforeCalibration() {
    List<String> stages = new ArrayList<>();
    QuantizationAwareTraining.Builder qat =
        QuantizationAwareTraining.builder(fp32, Recipe.builder().build())
            .data(Classifier.sample("train-images-idx3-ubyte.gz", 192))
            .patience(2)
            .progress((stage, done, total) -> stages.add(stage));
    assertThatThrownBy(qat::run)
        .isInstanceOf(InvalidInputException.class)
        .hasMessage("qat.patience 2: needs validation data to stop on (give validation data)");
    assertThat(stages).as("nothing calibrated or trained").isEmpty();
    // the fine-tune alone, used without QuantizationAwareTraining, refuses it too
    try (TrainableGraph g = TrainableGraph.builder(fp32).build()) {
      assertThatThrownBy(() -> run(g).patience(2).run())
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("needs validation data");
    }
  }

  @Test
  void schedulesGiveTheRatesTheyPromise() {
    assertThat(LearningRateSchedule.CONSTANT.rate(1f, 1, 4, 100)).isEqualTo(0.25f);
    assertThat(LearningRateSchedule.CONSTANT.rate(1f, 50, 4, 100)).isEqualTo(1f);
    assertThat(LearningRateSchedule.COSINE.rate(1f, 4, 4, 104)).isEqualTo(1f);
    assertThat(LearningRateSchedule.COSINE.rate(1f, 54, 4, 104)).isCloseTo(0.5f, within(1e-6f));
    assertThat(LearningRateSchedule.COSINE.rate(1f, 104, 4, 104)).isCloseTo(0f, within(1e-6f));
    assertThatThrownBy(() -> LearningRateSchedule.parse("step"))
        .hasMessageContaining("constant or cosine");
    assertThatThrownBy(() -> Optimizer.parse("lion")).hasMessageContaining("adam or sgd");
  }

  @Test
  void refusesADamagedCheckpointAndOneFromOtherSettings(@TempDir Path dir) throws Exception {
    try (TrainableGraph g = TrainableGraph.builder(fp32).build()) {
      run(g).maxSteps(2).checkpoints(dir, 1).run();
    }
    try (TrainableGraph g = TrainableGraph.builder(fp32).build()) {
      assertThatThrownBy(() -> run(g).maxSteps(2).learningRate(1e-2f).checkpoints(dir, 1).run())
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("written by a run with other settings")
          .hasMessageContaining("lr=0.001");
    }
    Files.write(dir.resolve(Checkpoint.FILE), new byte[] {0, 0, 0, 9, 1, 2});
    try (TrainableGraph g = TrainableGraph.builder(fp32).build()) {
      assertThatThrownBy(() -> run(g).maxSteps(2).checkpoints(dir, 1).run())
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining(Checkpoint.FILE)
          .hasMessageContaining("not a readable checkpoint");
    }
  }
}

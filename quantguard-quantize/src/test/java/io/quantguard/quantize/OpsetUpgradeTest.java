package io.quantguard.quantize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TestModels;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.ShapeProbe;
import io.quantguard.runtime.Tensor;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OpsetUpgradeTest {
  private static Map<String, Tensor> sentence() {
    long[] ids = {101, 1996, 4248, 2829, 4419, 14523, 2058, 1996, 13971, 3899, 102};
    long[] mask = new long[ids.length];
    java.util.Arrays.fill(mask, 1);
    return Map.of(
        "input_ids", Tensor.ofLongs(ids, 1, ids.length),
        "attention_mask", Tensor.ofLongs(mask, 1, ids.length),
        "token_type_ids", Tensor.ofLongs(new long[ids.length], 1, ids.length));
  }

  private static float[] run(OnnxModel m) {
    try (InferenceSession s = InferenceSession.open(m, SessionConfig.defaults().withThreads(1))) {
      return s.run(sentence()).get("last_hidden_state").floats();
    }
  }

  @Test
  void miniLmKeepsItsOutputsFromOpset11To13And21() {
    OnnxModel original = ModelIO.load(TestModels.miniLm());
    assertThat(original.opset("")).isEqualTo(11);
    float[] before = run(original);
    for (long target : new long[] {13, 21}) {
      OnnxModel m = original.copy();
      ShapeProbe.annotate(m, ShapeProbe.learn(m, sentence(), SessionConfig.defaults()));
      OpsetUpgrade.upgrade(m, target);
      assertThat(m.opset("")).isEqualTo(target);
      assertThat(
              m.graph().nodes().stream()
                  .filter(n -> n.opType().equals("Unsqueeze"))
                  .allMatch(n -> n.attribute("axes").isEmpty() && !n.input(1).isEmpty()))
          .isTrue();
      if (target >= 18) {
        assertThat(
                m.graph().nodes().stream()
                    .filter(n -> n.opType().equals("ReduceMean"))
                    .allMatch(n -> n.attribute("axes").isEmpty()))
            .isTrue();
      }
      float[] after = run(m);
      double maxDiff = 0;
      for (int i = 0; i < before.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(before[i] - after[i]));
      }
      assertThat(maxDiff).as("opset %d", target).isLessThan(1e-4);
    }
  }

  @Test
  void refusesASoftmaxWhoseMeaningWouldChange() {
    OnnxModel m = ModelIO.load(TestModels.miniLm());
    ShapeProbe.annotate(m, ShapeProbe.learn(m, sentence(), SessionConfig.defaults()));
    Node softmax =
        m.graph().nodes().stream()
            .filter(n -> n.opType().equals("Softmax"))
            .findFirst()
            .orElseThrow();
    softmax.setAttribute(Node.intAttr("axis", 1));
    assertThatThrownBy(() -> OpsetUpgrade.upgrade(m, 13))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining(softmax.name())
        .hasMessageContaining("changes meaning");
  }
}

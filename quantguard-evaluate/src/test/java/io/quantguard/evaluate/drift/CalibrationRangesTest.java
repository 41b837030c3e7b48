package io.quantguard.evaluate.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.TensorType;
import io.quantguard.onnx.proto.Onnx.GraphProto;
import io.quantguard.onnx.proto.Onnx.ModelProto;
import io.quantguard.onnx.proto.Onnx.NodeProto;
import io.quantguard.onnx.proto.Onnx.OperatorSetIdProto;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ranges read back from a hand-built QDQ graph, and clipping counted on its FP32 twin. */
class CalibrationRangesTest {
  @TempDir Path tmp;

  /**
   * x → Q/DQ (s 0.1, uint8 z 128) → Relu → r → Q/DQ (s 0.05, int8 z −10) and a second Q/DQ on r (s
   * 0.04, int8 z 0) → MatMul with a quantized weight → m → Q/DQ (scale from a Constant node, no
   * zero point).
   */
  static OnnxModel qdq() {
    GraphProto.Builder g =
        GraphProto.newBuilder()
            .setName("qdq")
            .addInput(TensorType.of(DataType.FLOAT, -1, 4).toValueInfo("x"))
            .addOutput(TensorType.of(DataType.FLOAT, -1, 4).toValueInfo("y"))
            .addInitializer(TensorCodec.scalar("s1", 0.1f))
            .addInitializer(
                TensorCodec.fromInts("z1", DataType.UINT8, new long[0], new int[] {128}))
            .addInitializer(TensorCodec.scalar("s2", 0.05f))
            .addInitializer(TensorCodec.fromInts("z2", DataType.INT8, new long[0], new int[] {-10}))
            .addInitializer(TensorCodec.scalar("s2b", 0.04f))
            .addInitializer(TensorCodec.fromInts("z2b", DataType.INT8, new long[0], new int[] {0}))
            .addInitializer(TensorCodec.fromFloats("W", new long[] {4, 4}, identity()))
            .addInitializer(TensorCodec.scalar("sW", 0.01f))
            .addInitializer(TensorCodec.fromInts("zW", DataType.INT8, new long[0], new int[] {0}))
            .addNode(node("QuantizeLinear", List.of("x", "s1", "z1"), "xq"))
            .addNode(node("DequantizeLinear", List.of("xq", "s1", "z1"), "xd"))
            .addNode(node("Relu", List.of("xd"), "r"))
            .addNode(node("QuantizeLinear", List.of("r", "s2", "z2"), "rq"))
            .addNode(node("DequantizeLinear", List.of("rq", "s2", "z2"), "rd"))
            .addNode(node("QuantizeLinear", List.of("r", "s2b", "z2b"), "rq2"))
            .addNode(node("DequantizeLinear", List.of("rq2", "s2b", "z2b"), "rd2"))
            .addNode(node("Add", List.of("rd", "rd2"), "r2"))
            .addNode(node("QuantizeLinear", List.of("W", "sW", "zW"), "Wq"))
            .addNode(node("DequantizeLinear", List.of("Wq", "sW", "zW"), "Wd"))
            .addNode(node("MatMul", List.of("r2", "Wd"), "m"))
            .addNode(
                Node.of(
                        "Constant",
                        "s3_const",
                        List.of(),
                        List.of("s3"),
                        Node.tensorAttr("value", TensorCodec.scalar("s3", 0.2f)))
                    .toProto())
            .addNode(node("QuantizeLinear", List.of("m", "s3"), "mq"))
            .addNode(node("DequantizeLinear", List.of("mq", "s3"), "y"));
    return model(g);
  }

  /** The FP32 model the QDQ one came from: same tensor names. */
  static OnnxModel fp32() {
    GraphProto.Builder g =
        GraphProto.newBuilder()
            .setName("fp32")
            .addInput(TensorType.of(DataType.FLOAT, -1, 4).toValueInfo("x"))
            .addOutput(TensorType.of(DataType.FLOAT, -1, 4).toValueInfo("y"))
            .addInitializer(TensorCodec.fromFloats("W", new long[] {4, 4}, identity()))
            .addNode(node("Relu", List.of("x"), "r"))
            .addNode(node("Add", List.of("r", "r"), "r2"))
            .addNode(node("MatMul", List.of("r2", "W"), "m"))
            .addNode(node("Identity", List.of("m"), "y"));
    return model(g);
  }

  @Test
  void readsEveryActivationRangeAndSkipsWeights() {
    CalibrationRanges ranges = CalibrationRanges.of(qdq());
    assertThat(ranges.ranges())
        .extracting(CalibrationRanges.Range::tensor)
        .containsExactly("x", "r", "m");
    // uint8, z 128, s 0.1: [0.1·(0 − 128), 0.1·(255 − 128)] = [−12.8, 12.7]
    CalibrationRanges.Range x = ranges.range("x").orElseThrow();
    assertThat(x.low()).isCloseTo(-12.8, within(1e-6));
    assertThat(x.high()).isCloseTo(12.7, within(1e-6));
    assertThat(x.type()).isEqualTo("uint8");
    // int8: [0.05·(−128 + 10), 0.05·(127 + 10)] = [−5.9, 6.85] and [0.04·−128, 0.04·127] =
    // [−5.12, 5.08]: a value clips if either consumer clips it.
    CalibrationRanges.Range r = ranges.range("r").orElseThrow();
    assertThat(r.low()).isCloseTo(-5.12, within(1e-6));
    assertThat(r.high()).isCloseTo(5.08, within(1e-6));
    // A Constant scale and no zero point: uint8 with z = 0, [0, 0.2·255].
    CalibrationRanges.Range m = ranges.range("m").orElseThrow();
    assertThat(m.low()).isZero();
    assertThat(m.high()).isCloseTo(51, within(1e-5));
    // Half a step beyond either end still rounds to the end code; only further out clips.
    assertThat(x.clips(12.74)).isFalse();
    assertThat(x.clips(12.76)).isTrue();
    assertThat(x.clips(-12.84)).isFalse();
    assertThat(x.clips(-12.86)).isTrue();
    assertThat(ranges.skipped()).isEmpty();
  }

  @Test
  void countsTheFp32ActivationsOutsideTheRanges() {
    Path model = tmp.resolve("fp32.onnx");
    ModelIO.save(fp32(), model);
    CalibrationRanges ranges = CalibrationRanges.of(qdq());
    try (OverflowProbe probe = OverflowProbe.open(model, ranges, SessionConfig.defaults())) {
      assertThat(probe.unmatched()).isEmpty();
      Tensor x = Tensor.ofFloats(new float[] {-13, 0, 2.5f, 12.76f, 1, 2, 2.6f, 4}, 2, 4);
      OverflowCounts c = probe.count(Map.of("x", x));
      // x: −13 is under −12.85 and 12.76 over 12.75; r = relu(x): 12.76 is over 5.10 (2.5 and
      // 2.6 are not); m = 2r stays under 51.1; r2 has no range.
      assertThat(c.tensors())
          .extracting(OverflowCounts.TensorCounts::tensor)
          .containsExactly("x", "r", "m");
      OverflowCounts.TensorCounts cx = c.tensors().get(0);
      assertThat(cx.values()).containsExactly(4, 4);
      assertThat(cx.below()).containsExactly(1, 0);
      assertThat(cx.above()).containsExactly(1, 0);
      OverflowCounts.TensorCounts cr = c.tensors().get(1);
      assertThat(cr.below()).containsExactly(0, 0);
      assertThat(cr.above()).containsExactly(1, 0);
      assertThat(c.tensors().get(2).above()).containsExactly(0, 0);
      OverflowMeter meter = new OverflowMeter(probe.ranges(), 3);
      meter.add(
          c, List.of(new OverflowMeter.Sample("a", null), new OverflowMeter.Sample("b", null)));
      assertThat(meter.rate()).isCloseTo(3.0 / 24, within(1e-12));
      assertThat(meter.result("all").worstSamples())
          .singleElement()
          .satisfies(
              s -> {
                assertThat(s.sample()).isEqualTo("a");
                assertThat(s.clipped()).isEqualTo(3);
                assertThat(s.worstTensor()).isEqualTo("x");
                assertThat(s.worstTensorRate()).isEqualTo(0.5);
              });
    }
  }

  @Test
  void aTensorTheFp32ModelLacksIsListedNotMeasured() {
    Path model = tmp.resolve("fp32.onnx");
    // "smoothed" stands for a tensor the quantizer inserted, such as a SmoothQuant scaling's
    // output.
    CalibrationRanges ranges =
        new CalibrationRanges(
            "test",
            List.of(
                new CalibrationRanges.Range("r", -1, 1, 0.01, 0, "int8"),
                new CalibrationRanges.Range("smoothed", -1, 1, 0.01, 0, "int8")),
            List.of());
    ModelIO.save(fp32(), model);
    try (OverflowProbe probe = OverflowProbe.open(model, ranges, SessionConfig.defaults())) {
      assertThat(probe.unmatched()).containsExactly("smoothed");
      assertThat(probe.ranges().ranges())
          .extracting(CalibrationRanges.Range::tensor)
          .containsExactly("r");
    }
  }

  private static float[] identity() {
    float[] w = new float[16];
    for (int i = 0; i < 4; i++) {
      w[i * 4 + i] = 1;
    }
    return w;
  }

  private static NodeProto node(String op, List<String> in, String out) {
    return NodeProto.newBuilder()
        .setName(out + "_" + op)
        .setOpType(op)
        .addAllInput(in)
        .addOutput(out)
        .build();
  }

  private static OnnxModel model(GraphProto.Builder g) {
    return OnnxModel.of(
        ModelProto.newBuilder()
            .setIrVersion(8)
            .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
            .setGraph(g)
            .build());
  }
}

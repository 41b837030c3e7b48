package io.quantguard.evaluate.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.InvalidInputException;
import org.junit.jupiter.api.Test;

/** A trace as ONNX Runtime writes it, with known durations. */
class ProfileTraceTest {
  private static String run(int start, int conv, int quantize) {
    return String.format(
        """
        {"cat": "Session", "name": "model_run", "ts": %d, "dur": 1000},
        {"cat": "Node", "name": "conv_kernel_time", "ts": %d, "dur": %d,
         "args": {"op_name": "QLinearConv", "input_type_shape": [{"uint8": [1, 1, 28, 28]}]}},
        {"cat": "Node", "name": "conv_fence_before", "ts": %d, "dur": 0, "args": {}},
        {"cat": "Node", "name": "q_kernel_time", "ts": %d, "dur": %d,
         "args": {"op_name": "QuantizeLinear", "input_type_shape": [{"float": [1, 1, 28, 28]}]}}
        """,
        start, start + 10, conv, start + 20, start + 30, quantize);
  }

  @Test
  void warmUpRunsAreLeftOutAndEachNodeCountsItsFastestCall() throws Exception {
    // Run 0 is warm-up (slow first call); run 3's conv was descheduled (900 µs).
    String json =
        "["
            + String.join(
                ",",
                run(0, 5000, 50),
                run(10_000, 110, 20),
                run(20_000, 100, 20),
                run(30_000, 900, 20))
            + "]";
    OperatorProfile p =
        ProfileTrace.summarize(new ObjectMapper().readTree(json), "int8", 1, 1, "trace.json");
    assertThat(p.runs()).isEqualTo(3);
    assertThat(p.nodes()).extracting(OperatorProfile.Operator::name).containsExactly("conv", "q");
    assertThat(p.nodes().get(0).msPerRun()).isCloseTo(0.100, within(1e-12));
    assertThat(p.kernelMsPerRun()).isCloseTo(0.120, within(1e-12));
    assertThat(p.integerShare()).isCloseTo(100.0 / 120, within(1e-12));
    assertThat(p.conversionShare()).isCloseTo(20.0 / 120, within(1e-12));
    assertThat(p.floatShare()).isZero();
    assertThat(p.opTypes())
        .extracting(o -> o.name() + " " + o.arithmetic())
        .containsExactly("QLinearConv INTEGER", "QuantizeLinear CONVERSION");
  }

  @Test
  void aTraceWithNoRunAfterWarmUpIsRefused() throws Exception {
    String json = "[" + run(0, 100, 10) + "]";
    assertThatThrownBy(
            () ->
                ProfileTrace.summarize(
                    new ObjectMapper().readTree(json), "int8", 1, 1, "trace.json"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("trace.json")
        .hasMessageContaining("none after the 1 warm-up runs");
  }
}

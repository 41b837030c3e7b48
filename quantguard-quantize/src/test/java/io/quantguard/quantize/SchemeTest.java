package io.quantguard.quantize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.quantguard.onnx.DataType;
import org.junit.jupiter.api.Test;

class SchemeTest {
  @Test
  void affineUint8MatchesHandComputation() {
    QuantParams p = Scheme.of(DataType.UINT8, false).params(new Range(-1, 3));
    // s = 4 / 255; z = round(0 - (-1) / s) = round(63.75) = 64
    assertThat(p.scale()[0]).isEqualTo((float) (4.0 / 255));
    assertThat(p.zeroPoint()[0]).isEqualTo(64);
  }

  @Test
  void symmetricInt8UsesTheRestrictedRangeAndZeroZeroPoint() {
    Scheme s = Scheme.of(DataType.INT8, true);
    assertThat(s.qmin()).isEqualTo(-127);
    QuantParams p = s.params(new Range(-1, 3));
    assertThat(p.scale()[0]).isEqualTo((float) (6.0 / 254));
    assertThat(p.zeroPoint()[0]).isZero();
  }

  @Test
  void narrowGridsHaveTheLimitsOfTheirBits() {
    Scheme w3 = new Scheme(DataType.INT4, true, false, 3);
    assertThat(w3.qmin()).isEqualTo(-3);
    assertThat(w3.qmax()).isEqualTo(3);
    QuantParams p = w3.params(new Range(-1, 3));
    // s = 6 / 6 = 1: the weight 3 maps to 3, -1 to -1
    assertThat(p.scale()[0]).isEqualTo(1f);
    assertThat(p.quantize(new float[] {3f, -1f, 9f}, new long[] {3})).containsExactly(3, -1, 3);
    assertThat(new Scheme(DataType.INT4, false, false, 3).qmin()).isEqualTo(-4);
    Scheme a4 = new Scheme(DataType.UINT8, false, false, 4);
    assertThat(a4.qmin()).isZero();
    assertThat(a4.qmax()).isEqualTo(15);
    // [-1, 3] on 15 steps: s = 4 / 15, z = round(3.75) = 4; 100 saturates at 15, not 255
    QuantParams q = a4.params(new Range(-1, 3));
    assertThat(q.scale()[0]).isEqualTo((float) (4.0 / 15));
    assertThat(q.zeroPoint()[0]).isEqualTo(4);
    assertThat(q.quantize(new float[] {100f}, new long[] {1})).containsExactly(15);
    assertThat(a4.narrowed()).isTrue();
    assertThat(Scheme.of(DataType.UINT8, false).narrowed()).isFalse();
  }

  @Test
  void rangeAlwaysContainsZero() {
    QuantParams p = Scheme.of(DataType.INT8, false).params(new Range(0.5, 2));
    // [0.5, 2] widens to [0, 2]: s = 2 / 255, z = round(-128 - 0) = -128
    assertThat(p.scale()[0]).isEqualTo((float) (2.0 / 255));
    assertThat(p.zeroPoint()[0]).isEqualTo(-128);
    assertThat(QuantParams.dequantize(p.zeroPoint()[0], p.scale()[0], p.zeroPoint()[0])).isZero();
  }

  @Test
  void degenerateRangesGiveFiniteParameters() {
    QuantParams zero = Scheme.of(DataType.UINT8, false).params(new Range(0, 0));
    assertThat(zero.scale()[0]).isEqualTo(1f);
    assertThat(zero.zeroPoint()[0]).isZero();
    QuantParams tiny = Scheme.of(DataType.INT8, true).params(new Range(-1e-45, 1e-45));
    assertThat(Float.isFinite(tiny.scale()[0])).isTrue();
    assertThat(tiny.scale()[0]).isPositive();
    assertThat(QuantParams.quantize(1e-45f, tiny.scale()[0], 0, -127, 127)).isBetween(-127, 127);
  }

  @Test
  void otherWidthsAndReducedRange() {
    QuantParams int4 = Scheme.of(DataType.INT4, true).params(new Range(-0.7, 0.7));
    assertThat(int4.scale()[0]).isCloseTo(0.1f, within(1e-7f)); // 1.4 / (7 - (-7))
    QuantParams int16 = Scheme.of(DataType.INT16, true).params(new Range(-1, 1));
    assertThat(int16.scale()[0]).isEqualTo((float) (2.0 / 65534));
    Scheme reduced = new Scheme(DataType.UINT8, false, true);
    assertThat(reduced.qmax()).isEqualTo(127);
    assertThat(reduced.params(new Range(0, 1.27)).scale()[0]).isCloseTo(0.01f, within(1e-8f));
    QuantParams uint4 = Scheme.of(DataType.UINT4, false).params(new Range(0, 1.5));
    assertThat(uint4.scale()[0]).isCloseTo(0.1f, within(1e-7f));
  }

  @Test
  void roundsHalfToEvenAndSaturates() {
    assertThat(QuantParams.quantize(0.5f, 1f, 0, -128, 127)).isZero();
    assertThat(QuantParams.quantize(1.5f, 1f, 0, -128, 127)).isEqualTo(2);
    assertThat(QuantParams.quantize(2.5f, 1f, 0, -128, 127)).isEqualTo(2);
    assertThat(QuantParams.quantize(-2.5f, 1f, 0, -128, 127)).isEqualTo(-2);
    assertThat(QuantParams.quantize(1000f, 1f, 0, -128, 127)).isEqualTo(127);
    assertThat(QuantParams.quantize(-1000f, 0.5f, 10, 0, 255)).isZero();
  }

  @Test
  void perChannelQuantizationIndexesTheAxis() {
    float[] w = {1f, -2f, 4f, 10f, 20f, -40f}; // shape [2, 3]
    Scheme s = Scheme.of(DataType.INT8, true);
    QuantParams rows = s.params(new Range[] {new Range(-4, 4), new Range(-40, 40)}, 0);
    int[] q = rows.quantize(w, new long[] {2, 3});
    // row 0: s = 8/254; row 1: s = 80/254. Both rows map their max to 127 exactly.
    assertThat(q[2]).isEqualTo(127);
    assertThat(q[5]).isEqualTo(-127);
    assertThat(q[0]).isEqualTo(32); // 1 / (8/254) = 31.75 -> 32
    QuantParams cols =
        s.params(new Range[] {new Range(-10, 10), new Range(-20, 20), new Range(-40, 40)}, 1);
    int[] qc = cols.quantize(w, new long[] {2, 3});
    assertThat(qc[3]).isEqualTo(127);
    assertThat(qc[4]).isEqualTo(127);
    assertThat(qc[5]).isEqualTo(-127);
    float[] back = cols.dequantize(qc, new long[] {2, 3});
    assertThat(back[1]).isCloseTo(-2f, within(20f / 254));
  }
}

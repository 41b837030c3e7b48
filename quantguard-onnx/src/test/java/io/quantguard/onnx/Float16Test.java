package io.quantguard.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class Float16Test {
  @Test
  void encodesHandComputedValues() {
    assertThat(Float16.fromFloat(1.0f)).isEqualTo((short) 0x3C00);
    assertThat(Float16.fromFloat(-2.0f)).isEqualTo((short) 0xC000);
    assertThat(Float16.fromFloat(65504f)).isEqualTo((short) 0x7BFF);
    assertThat(Float16.fromFloat(1e6f)).isEqualTo((short) 0x7C00); // overflow to +inf
    assertThat(Float16.fromFloat(0.1f)).isEqualTo((short) 0x2E66);
    assertThat(Float16.fromFloat(0x1p-24f)).isEqualTo((short) 0x0001); // smallest subnormal
    assertThat(Float16.fromFloat(0x1p-26f)).isEqualTo((short) 0x0000); // underflows to zero
  }

  @Test
  void roundsHalfToEven() {
    // Between 2048 and 2050 the spacing is 2: 2049 is a tie and goes to the even mantissa (2048),
    // 2051 is a tie and goes to 2052.
    assertThat(Float16.toFloat(Float16.fromFloat(2049f))).isEqualTo(2048f);
    assertThat(Float16.toFloat(Float16.fromFloat(2051f))).isEqualTo(2052f);
  }

  @Test
  void decodesAndRoundTripsEveryFiniteHalf() {
    for (int h = 0; h < 0x10000; h++) {
      float f = Float16.toFloat((short) h);
      if (Float.isNaN(f)) {
        assertThat(Float.isNaN(Float16.toFloat(Float16.fromFloat(f)))).isTrue();
      } else {
        assertThat(Float16.fromFloat(f)).as("bits %04x", h).isEqualTo((short) h);
      }
    }
  }

  @Test
  void bfloat16KeepsTheTopSixteenBitsRounded() {
    assertThat(Float16.bfloat16FromFloat(1.0f)).isEqualTo((short) 0x3F80);
    assertThat(Float16.bfloat16ToFloat((short) 0x4049)).isEqualTo(3.140625f);
    assertThat(Float16.bfloat16FromFloat(3.14159f)).isEqualTo((short) 0x4049);
  }
}

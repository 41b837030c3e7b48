package io.quantguard.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.proto.Onnx.TensorProto;
import org.junit.jupiter.api.Test;

class TensorCodecTest {
  @Test
  void packsInt4LowNibbleFirst() {
    TensorProto t =
        TensorCodec.fromInts("w", DataType.INT4, new long[] {5}, new int[] {1, -2, 7, -8, 3});
    byte[] raw = t.getRawData().toByteArray();
    // 1 | (-2 & 0xf) << 4 = 0xE1; 7 | (-8 & 0xf) << 4 = 0x87; 3 alone in the last byte.
    assertThat(raw).containsExactly((byte) 0xE1, (byte) 0x87, (byte) 0x03);
    assertThat(TensorCodec.toLongs(t, ExternalData.NONE)).containsExactly(1, -2, 7, -8, 3);
  }

  @Test
  void readsTypedFieldsLikeRawData() {
    TensorProto typed =
        TensorProto.newBuilder()
            .setName("x")
            .setDataType(DataType.INT8.code())
            .addDims(3)
            .addInt32Data(-5)
            .addInt32Data(0)
            .addInt32Data(127)
            .build();
    assertThat(TensorCodec.toFloats(typed, ExternalData.NONE)).containsExactly(-5f, 0f, 127f);
    TensorProto f16 =
        TensorProto.newBuilder()
            .setName("h")
            .setDataType(DataType.FLOAT16.code())
            .addDims(2)
            .addInt32Data(0x3C00)
            .addInt32Data(0xC000)
            .build();
    assertThat(TensorCodec.toFloats(f16, ExternalData.NONE)).containsExactly(1f, -2f);
    TensorProto floats =
        TensorProto.newBuilder()
            .setName("f")
            .setDataType(1)
            .addDims(2)
            .addFloatData(1.5f)
            .addFloatData(-3f)
            .build();
    assertThat(TensorCodec.toFloats(floats, ExternalData.NONE)).containsExactly(1.5f, -3f);
  }

  @Test
  void decodesEightBitFloats() {
    TensorProto e4m3 =
        TensorCodec.fromRaw(
            "a", DataType.FLOAT8E4M3FN, new long[] {3}, new byte[] {0x7E, 0x08, (byte) 0xC0});
    // 0x7E: exponent 15, mantissa 6 -> 1.75 * 2^8 = 448 (the largest finite E4M3FN value);
    // 0x08: exponent 1 -> 2^-6; 0xC0: sign, exponent 8 -> -2.
    assertThat(TensorCodec.toFloats(e4m3, ExternalData.NONE)).containsExactly(448f, 0x1p-6f, -2f);
    TensorProto e5m2 =
        TensorCodec.fromRaw("b", DataType.FLOAT8E5M2, new long[] {1}, new byte[] {0x7B});
    assertThat(TensorCodec.toFloats(e5m2, ExternalData.NONE)).containsExactly(57344f);
  }

  @Test
  void refusesDataThatDoesNotMatchTheShape() {
    TensorProto t =
        TensorProto.newBuilder().setName("bad").setDataType(1).addDims(4).addFloatData(1f).build();
    assertThatThrownBy(() -> TensorCodec.toFloats(t, ExternalData.NONE))
        .hasMessageContaining("'bad'")
        .hasMessageContaining("need 16");
    assertThatThrownBy(
            () -> TensorCodec.fromInts("q", DataType.INT8, new long[] {1}, new int[] {200}))
        .hasMessageContaining("outside int8");
  }

  @Test
  void integerRangesFollowTheTypes() {
    assertThat(DataType.INT8.minValue()).isEqualTo(-128);
    assertThat(DataType.UINT8.maxValue()).isEqualTo(255);
    assertThat(DataType.INT4.minValue()).isEqualTo(-8);
    assertThat(DataType.UINT4.maxValue()).isEqualTo(15);
    assertThat(DataType.INT16.maxValue()).isEqualTo(32767);
    assertThat(DataType.INT4.storageBytes(5)).isEqualTo(3);
  }
}

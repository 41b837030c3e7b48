package io.quantguard.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.DataType;
import io.quantguard.runtime.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The codec without a server: round trips and the JSON size cap. */
class OipCodecTest {
  private static final ModelKey KEY = new ModelKey("m", 1);
  private static final ModelSignature SIGNATURE =
      new ModelSignature(
          List.of(new TensorSpec("x", DataType.FLOAT, new long[] {-1, 3})),
          List.of(new TensorSpec("y", DataType.FLOAT, new long[] {-1, 3})));

  @Test
  void jsonAndBinaryRequestsDecodeToTheSameTensor() {
    Tensor x = Tensor.ofFloats(new float[] {0.1f, -2.5e-8f, 3.4028235e38f, 1, 2, 3}, 2, 3);
    for (RequestBody body :
        List.of(
            RequestBody.json("a", Map.of("x", x)),
            RequestBody.binary("a", Map.of("x", x), false))) {
      String length = body.headers().get("Inference-Header-Content-Length");
      InferRequest r =
          OipCodec.decode(
              body.bytes(), length == null ? null : Integer.valueOf(length), KEY, SIGNATURE, true);
      assertThat(r.id()).isEqualTo("a");
      assertThat(r.inputs().get("x").shape()).containsExactly(2, 3);
      assertThat(r.inputs().get("x").floats()).containsExactly(x.floats());
      assertThat(r.outputNames()).containsExactly("y");
    }
  }

  @Test
  void jsonOverTheCapIs413BeforeParsing() {
    byte[] body = new byte[OipCodec.MAX_JSON_BYTES + 1];
    Arrays.fill(body, (byte) ' ');
    body[0] = '{';
    assertThatThrownBy(() -> OipCodec.decode(body, null, KEY, SIGNATURE, true))
        .isInstanceOfSatisfying(OipException.class, e -> assertThat(e.status()).isEqualTo(413))
        .hasMessageContaining("send large tensors as binary tensor data");
    byte[] small = "{\"inputs\":[]}".getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> OipCodec.decode(small, null, KEY, SIGNATURE, true))
        .isInstanceOfSatisfying(OipException.class, e -> assertThat(e.status()).isEqualTo(400));
  }

  @Test
  void theSliceParameterIsReadAndChecked() {
    String inputs =
        "\"inputs\":[{\"name\":\"x\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[1,2,3]}]";
    InferRequest tagged =
        OipCodec.decode(
            ("{\"parameters\":{\"slice\":\"night\"}," + inputs + "}")
                .getBytes(StandardCharsets.UTF_8),
            null,
            KEY,
            SIGNATURE,
            true);
    assertThat(tagged.slice()).isEqualTo("night");
    InferRequest plain =
        OipCodec.decode(
            ("{" + inputs + "}").getBytes(StandardCharsets.UTF_8), null, KEY, SIGNATURE, true);
    assertThat(plain.slice()).isNull();
    for (String bad : List.of("3", "\"\"", "\"a/b\"")) {
      byte[] body =
          ("{\"parameters\":{\"slice\":" + bad + "}," + inputs + "}")
              .getBytes(StandardCharsets.UTF_8);
      assertThatThrownBy(() -> OipCodec.decode(body, null, KEY, SIGNATURE, true))
          .isInstanceOfSatisfying(OipException.class, e -> assertThat(e.status()).isEqualTo(400))
          .hasMessageContaining("parameters.slice");
    }
  }
}

package io.quantguard.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.quantguard.onnx.TestModels;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The protocol on the Fashion-MNIST CNN: metadata, JSON and binary inference equal to a direct ONNX
 * Runtime session, and every error status with a message that names the input.
 */
class CnnServingTest {
  private static InferenceServer server;
  private static InferenceSession direct;
  private static String url;

  @BeforeAll
  static void start() {
    // Batching off and the same thread count as the direct session: outputs must be bit-equal.
    server =
        InferenceServer.builder()
            .config(
                ServerConfig.defaults()
                    .withPort(0)
                    .withThreads(2)
                    .withBatching(new BatchPolicy(1, Duration.ZERO, 64))
                    .withMaxBodyBytes(64 * 1024))
            .model(new ModelSource.File("cnn", 1, TestModels.fashionCnn()))
            .build()
            .start();
    url = server.url();
    direct =
        InferenceSession.open(TestModels.fashionCnn(), SessionConfig.defaults().withThreads(2));
  }

  @AfterAll
  static void stop() {
    server.close();
    direct.close();
  }

  private static float[] expected(Tensor images) {
    return direct.run(Map.of("image", images)).get("logits").floats();
  }

  @Test
  void healthAndMetadata() {
    assertThat(Http.get(url + "/v2/health/live").status()).isEqualTo(200);
    assertThat(Http.get(url + "/v2/health/ready").status()).isEqualTo(200);
    JsonNode server = Http.get(url + "/v2").json();
    assertThat(server.path("extensions").toString()).contains("binary_tensor_data");
    for (String path : new String[] {"/v2/models/cnn", "/v2/models/cnn/versions/1"}) {
      Http.Response r = Http.get(url + path);
      assertThat(r.status()).isEqualTo(200);
      JsonNode m = r.json();
      assertThat(m.path("name").asText()).isEqualTo("cnn");
      assertThat(m.path("versions").toString()).isEqualTo("[\"1\"]");
      assertThat(m.path("platform").asText()).isEqualTo("onnxruntime_onnx");
      assertThat(m.path("inputs").toString())
          .isEqualTo("[{\"name\":\"image\",\"datatype\":\"FP32\",\"shape\":[-1,1,28,28]}]");
      assertThat(m.path("outputs").toString())
          .isEqualTo("[{\"name\":\"logits\",\"datatype\":\"FP32\",\"shape\":[-1,10]}]");
    }
    assertThat(Http.get(url + "/v2/models/cnn/ready").json().path("ready").asBoolean()).isTrue();
    assertThat(Http.get(url + "/v2/models/cnn/versions/1/ready").status()).isEqualTo(200);
  }

  @Test
  void jsonInferenceEqualsDirectSession() {
    Tensor images = Responses.images(3, 1);
    Http.Response r = post(RequestBody.json("req-7", Map.of("image", images)));
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    assertThat(r.header("Content-Type")).startsWith("application/json");
    JsonNode body = r.json();
    assertThat(body.path("id").asText()).isEqualTo("req-7");
    assertThat(body.path("model_name").asText()).isEqualTo("cnn");
    assertThat(body.path("model_version").asText()).isEqualTo("1");
    Tensor logits = Responses.outputs(r).get("logits");
    assertThat(logits.shape()).containsExactly(3, 10);
    assertThat(logits.floats()).containsExactly(expected(images));
  }

  @Test
  void binaryInferenceEqualsDirectSession() {
    Tensor images = Responses.images(4, 2);
    Http.Response r = post(RequestBody.binary("b", Map.of("image", images), true));
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    assertThat(r.header("Content-Type")).startsWith("application/octet-stream");
    int jsonLength = Integer.parseInt(r.header("Inference-Header-Content-Length"));
    assertThat(r.body().length).isEqualTo(jsonLength + 4 * 10 * 4);
    assertThat(new String(r.body(), 0, jsonLength, StandardCharsets.UTF_8))
        .contains("\"binary_data_size\":160");
    assertThat(Responses.outputs(r).get("logits").floats()).containsExactly(expected(images));

    // Binary inputs, JSON outputs (no binary_data_output): the same numbers.
    Http.Response json = post(RequestBody.binary("b", Map.of("image", images), false));
    assertThat(json.header("Inference-Header-Content-Length")).isNull();
    assertThat(Responses.outputs(json).get("logits").floats()).containsExactly(expected(images));
  }

  @Test
  void requestedOutputAsBinaryAndNestedData() {
    Tensor image = Responses.images(1, 3);
    StringBuilder nested = new StringBuilder("[[[");
    float[] f = image.floats();
    for (int row = 0; row < 28; row++) {
      nested.append(row == 0 ? "[" : ",[");
      for (int col = 0; col < 28; col++) {
        nested.append(col == 0 ? "" : ",").append(f[row * 28 + col]);
      }
      nested.append(']');
    }
    nested.append("]]]");
    Http.Response r =
        Http.postJson(
            url + "/v2/models/cnn/infer",
            "{\"inputs\":[{\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\","
                + "\"data\":"
                + nested
                + "}],\"outputs\":[{\"name\":\"logits\",\"parameters\":{\"binary_data\":true}}]}");
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    assertThat(r.header("Inference-Header-Content-Length")).isNotNull();
    assertThat(Responses.outputs(r).get("logits").floats()).containsExactly(expected(image));
  }

  @Test
  void badRequestsAre400AndNameTheInput() {
    String ones = ones(784);
    assertError(
        Http.postJson(url + "/v2/models/cnn/infer", "{\"inputs\": [ {"), 400, "not valid JSON");
    assertError(Http.postJson(url + "/v2/models/cnn/infer", "[1, 2]"), 400, "JSON object");
    assertError(
        infer(
            "{\"name\":\"image\",\"shape\":[1,1,28,27],\"datatype\":\"FP32\",\"data\":["
                + ones(756)
                + "]}"),
        400,
        "'image' has shape [1, 1, 28, 27] but model cnn@1 wants [-1, 1, 28, 28]");
    assertError(
        infer(
            "{\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"INT64\",\"data\":["
                + ones
                + "]}"),
        400,
        "'image' must be FP32");
    assertError(
        infer(
            "{\"name\":\"img\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":["
                + ones
                + "]}"),
        400,
        "has no input 'img'; its inputs are [image: FP32[-1, 1, 28, 28]]");
    assertError(
        infer(
            "{\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":["
                + ones(783)
                + "]}"),
        400,
        "'image' has 783 values; shape [1, 1, 28, 28] needs 784");
    assertError(
        infer(
            "{\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":[\"x\","
                + ones(783)
                + "]}"),
        400,
        "'image' element 0 is \"x\", not a number");
    assertError(
        infer(
            "{\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":[NaN,"
                + ones(783)
                + "]}"),
        400,
        "'image' holds NaN at element 0");
    assertError(
        Http.postJson(url + "/v2/models/cnn/infer", "{\"inputs\":[]}"), 400, "no \"inputs\" array");
    assertError(
        Http.postJson(
            url + "/v2/models/cnn/infer",
            "{\"inputs\":[{\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":["
                + ones
                + "]}],\"outputs\":[{\"name\":\"probabilities\"}]}"),
        400,
        "has no output 'probabilities'; its outputs are [logits]");
  }

  @Test
  void badBinaryRequestsAre400() {
    Tensor image = Responses.images(1, 4);
    float[] withInf = image.floats().clone();
    withInf[17] = Float.POSITIVE_INFINITY;
    assertError(
        post(
            RequestBody.binary(
                null, Map.of("image", Tensor.ofFloats(withInf, 1, 1, 28, 28)), false)),
        400,
        "'image' holds Infinity at element 17");

    RequestBody good = RequestBody.binary(null, Map.of("image", image), false);
    byte[] truncated = Arrays.copyOf(good.bytes(), good.bytes().length - 4);
    assertError(send(truncated, good.headers()), 400, "the body ends inside input 'image'");
    byte[] trailing = Arrays.copyOf(good.bytes(), good.bytes().length + 8);
    assertError(send(trailing, good.headers()), 400, "8 bytes of binary data follow");
    assertError(
        Http.post(
            url + "/v2/models/cnn/infer",
            good.bytes(),
            "Content-Type",
            "application/octet-stream",
            "Inference-Header-Content-Length",
            "999999"),
        400,
        "Inference-Header-Content-Length is 999999");
    String header =
        "{\"inputs\":[{\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\","
            + "\"parameters\":{\"binary_data_size\":3000}}]}";
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    assertError(
        Http.post(
            url + "/v2/models/cnn/infer",
            Arrays.copyOf(json, json.length + 3000),
            "Inference-Header-Content-Length",
            Integer.toString(json.length)),
        400,
        "binary_data_size 3000; FP32[1, 1, 28, 28] takes 3136 bytes");
    assertError(
        Http.post(url + "/v2/models/cnn/infer", json, "Content-Type", "application/json"),
        400,
        "no Inference-Header-Content-Length header");
  }

  @Test
  void unknownModelOrVersionIs404() {
    assertError(Http.get(url + "/v2/models/resnet"), 404, "no model 'resnet'");
    assertError(Http.get(url + "/v2/models/cnn/versions/2"), 404, "has no version 2; served: 1");
    assertError(Http.get(url + "/v2/models/cnn/versions/x1"), 404, "has no version 'x1'");
    // Names never reach the file system: a traversal attempt is just an unknown endpoint.
    assertError(Http.get(url + "/v2/models/..%2F..%2Fetc%2Fpasswd"), 404, "no ");
    assertError(Http.postJson(url + "/v2/models/resnet/infer", "{}"), 404, "no model 'resnet'");
    assertError(
        Http.postJson(url + "/v2/models/cnn/versions/3/infer", "{}"), 404, "has no version 3");
    assertError(Http.get(url + "/v2/nothing"), 404, "Endpoint GET /v2/nothing not found");
  }

  @Test
  void oversizedBodyIs413AndWrongContentTypeIs415() {
    Http.Response big = post(RequestBody.json(null, Map.of("image", Responses.images(12, 5))));
    assertError(big, 413, "this server takes at most 65536 bytes");
    assertError(
        Http.post(
            url + "/v2/models/cnn/infer",
            "image=1".getBytes(),
            "Content-Type",
            "application/x-www-form-urlencoded"),
        415,
        "Content-Type application/x-www-form-urlencoded is not accepted");
    // The server is unharmed: the next good request succeeds.
    assertThat(post(RequestBody.json(null, Map.of("image", Responses.images(1, 6)))).status())
        .isEqualTo(200);
  }

  static void assertError(Http.Response r, int status, String message) {
    assertThat(r.status()).as(r.text()).isEqualTo(status);
    assertThat(r.header("Content-Type")).startsWith("application/json");
    assertThat(r.json().path("error").asText()).contains(message);
  }

  private static Http.Response infer(String input) {
    return Http.postJson(url + "/v2/models/cnn/infer", "{\"inputs\":[" + input + "]}");
  }

  private static Http.Response post(RequestBody body) {
    return Http.post(url + "/v2/models/cnn/infer", body);
  }

  private static Http.Response send(byte[] body, Map<String, String> headers) {
    return post(new RequestBody(body, headers));
  }

  private static String ones(int n) {
    return String.join(",", java.util.Collections.nCopies(n, "1"));
  }
}

package io.quantguard.serve;

import static io.quantguard.serve.CnnServingTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.quantguard.onnx.TestModels;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** all-MiniLM-L6-v2 (three INT64 inputs with free batch and sequence dimensions) over HTTP. */
class MiniLmServingTest {
  private static InferenceServer server;
  private static InferenceSession direct;
  private static String infer;

  @BeforeAll
  static void start() {
    server =
        InferenceServer.builder()
            .config(
                ServerConfig.defaults()
                    .withPort(0)
                    .withThreads(2)
                    .withBatching(new BatchPolicy(8, Duration.ofMillis(5), 64)))
            .model(new ModelSource.File("minilm", 1, TestModels.miniLm()))
            .build()
            .start();
    infer = server.url() + "/v2/models/minilm/infer";
    direct = InferenceSession.open(TestModels.miniLm(), SessionConfig.defaults().withThreads(2));
  }

  @AfterAll
  static void stop() {
    server.close();
    direct.close();
  }

  private static float[] expected(Map<String, Tensor> inputs) {
    return direct.run(inputs).get("last_hidden_state").floats();
  }

  @Test
  void metadataShowsInt64InputsWithFreeDimensions() {
    JsonNode m = Http.get(server.url() + "/v2/models/minilm").json();
    assertThat(m.path("inputs").toString())
        .isEqualTo(
            "[{\"name\":\"input_ids\",\"datatype\":\"INT64\",\"shape\":[-1,-1]},"
                + "{\"name\":\"attention_mask\",\"datatype\":\"INT64\",\"shape\":[-1,-1]},"
                + "{\"name\":\"token_type_ids\",\"datatype\":\"INT64\",\"shape\":[-1,-1]}]");
    assertThat(m.path("outputs").get(0).path("name").asText()).isEqualTo("last_hidden_state");
    assertThat(m.path("outputs").get(0).path("shape").toString()).isEqualTo("[-1,-1,384]");
  }

  @Test
  void jsonAndBinaryInferenceEqualDirectSession() {
    Map<String, Tensor> inputs = Responses.tokens(2, 8, 11);
    float[] want = expected(inputs);
    Http.Response json = post(RequestBody.json("m", inputs));
    assertThat(json.status()).as(json.text()).isEqualTo(200);
    Tensor got = Responses.outputs(json).get("last_hidden_state");
    assertThat(got.shape()).containsExactly(2, 8, 384);
    assertThat(got.floats()).containsExactly(want);

    Http.Response binary = post(RequestBody.binary("m", inputs, true));
    assertThat(binary.status()).as(binary.text()).isEqualTo(200);
    assertThat(Responses.outputs(binary).get("last_hidden_state").floats()).containsExactly(want);
  }

  @Test
  void missingOrNonIntegerInputIs400() {
    Map<String, Tensor> inputs = new LinkedHashMap<>(Responses.tokens(1, 4, 12));
    inputs.remove("attention_mask");
    assertError(
        post(RequestBody.json(null, inputs)),
        400,
        "missing input 'attention_mask': model minilm@1 wants [input_ids: INT64[-1, -1],"
            + " attention_mask: INT64[-1, -1], token_type_ids: INT64[-1, -1]]");
    assertError(
        Http.postJson(
            infer,
            "{\"inputs\":["
                + "{\"name\":\"input_ids\",\"shape\":[1,2],\"datatype\":\"INT64\",\"data\":[101,2.5]},"
                + "{\"name\":\"attention_mask\",\"shape\":[1,2],\"datatype\":\"INT64\",\"data\":[1,1]},"
                + "{\"name\":\"token_type_ids\",\"shape\":[1,2],\"datatype\":\"INT64\",\"data\":[0,0]}"
                + "]}"),
        400,
        "'input_ids' element 1 is 2.5, not an integer");
  }

  /**
   * Concurrent requests of two sequence lengths and several row counts: requests stack only with
   * their own length, and each gets exactly its own rows back.
   */
  @Test
  void concurrentRequestsOfDifferentShapesGetTheirOwnRows() {
    List<Map<String, Tensor>> inputs = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      inputs.add(Responses.tokens(1 + i % 3, i % 2 == 0 ? 5 : 9, 100 + i));
    }
    List<CompletableFuture<Http.Response>> sent = new ArrayList<>();
    for (Map<String, Tensor> in : inputs) {
      sent.add(CompletableFuture.supplyAsync(() -> post(RequestBody.binary(null, in, true))));
    }
    for (int i = 0; i < inputs.size(); i++) {
      Http.Response r = sent.get(i).join();
      assertThat(r.status()).as(r.text()).isEqualTo(200);
      Tensor got = Responses.outputs(r).get("last_hidden_state");
      assertThat(got.shape()).containsExactly(1 + i % 3, i % 2 == 0 ? 5 : 9, 384);
      float[] want = expected(inputs.get(i));
      float[] g = got.floats();
      for (int k = 0; k < want.length; k++) {
        // Stacked with other rows the kernels may sum in another order: ulps, not other rows.
        assertThat(g[k])
            .as("element %d of request %d", k, i)
            .isCloseTo(want[k], org.assertj.core.data.Offset.offset(1e-4f));
      }
    }
  }

  private static Http.Response post(RequestBody body) {
    return Http.post(infer, body);
  }
}

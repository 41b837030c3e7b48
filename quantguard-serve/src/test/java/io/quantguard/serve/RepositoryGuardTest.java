package io.quantguard.serve;

import static io.quantguard.serve.CnnServingTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.quantguard.onnx.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Load and unload need the bearer token; without it they answer 401 and change nothing. */
class RepositoryGuardTest {
  private static final String TOKEN = "5f1c0e7a9b2d4c6e8a0b1c2d3e4f5a6b";

  @TempDir Path tmp;

  @Test
  void unloadAndLoadNeedTheToken() throws Exception {
    Path tokenFile = tmp.resolve("token");
    Files.writeString(tokenFile, TOKEN + "\n");
    try (InferenceServer server =
        InferenceServer.builder()
            .config(
                ServerConfig.defaults()
                    .withPort(0)
                    .withThreads(1)
                    .withGuard(BearerTokenGuard.from(tokenFile, null)))
            .model(new ModelSource.File("cnn", 1, TestModels.fashionCnn()))
            .build()
            .start()) {
      String url = server.url();
      String unload = url + "/v2/repository/models/cnn/unload";
      RequestBody request = RequestBody.json(null, Map.of("image", Responses.images(1, 1)));

      Http.Response none = Http.post(unload, new byte[0]);
      assertError(none, 401, "needs Authorization: Bearer TOKEN");
      assertThat(none.header("WWW-Authenticate")).startsWith("Bearer");
      assertError(
          Http.post(unload, new byte[0], "Authorization", "Bearer " + TOKEN + "x"), 401, "Bearer");
      assertError(Http.post(unload, new byte[0], "Authorization", "Basic " + TOKEN), 401, "Bearer");
      // Nothing changed.
      assertThat(Http.get(url + "/v2/models/cnn/ready").status()).isEqualTo(200);
      assertThat(Http.post(url + "/v2/models/cnn/infer", request).status()).isEqualTo(200);

      Http.Response ok = Http.post(unload, new byte[0], "Authorization", "Bearer " + TOKEN);
      assertThat(ok.status()).as(ok.text()).isEqualTo(200);
      assertThat(ok.json().path("unloaded").toString()).isEqualTo("[\"1\"]");
      assertError(Http.get(url + "/v2/models/cnn/ready"), 503, "model 'cnn' is unloaded");
      assertError(Http.post(url + "/v2/models/cnn/infer", request), 404, "no model 'cnn'");
      assertThat(Http.post(url + "/v2/repository/index", new byte[0]).text())
          .contains("\"state\":\"UNAVAILABLE\"");

      Http.Response load =
          Http.post(
              url + "/v2/repository/models/cnn/load",
              new byte[0],
              "authorization",
              "bearer " + TOKEN);
      assertThat(load.status()).as(load.text()).isEqualTo(200);
      assertThat(Http.post(url + "/v2/models/cnn/infer", request).status()).isEqualTo(200);
      JsonNode index = Http.post(url + "/v2/repository/index", new byte[0]).json();
      assertThat(index.size()).isEqualTo(1);
      assertThat(index.get(0).path("state").asText()).isEqualTo("READY");
      assertThat(index.get(0).path("version").asText()).isEqualTo("1");
      assertError(
          Http.post(
              url + "/v2/repository/models/other/load",
              new byte[0],
              "Authorization",
              "Bearer " + TOKEN),
          404,
          "no model 'other' is configured");
    }
  }

  @Test
  void withoutATokenEveryGuardedRequestIsRefused() {
    BearerTokenGuard none = BearerTokenGuard.none();
    assertThat(none.configured()).isFalse();
    assertThat(none.permits("Bearer anything")).isFalse();
    BearerTokenGuard guard = BearerTokenGuard.from(null, TOKEN);
    assertThat(guard.permits("Bearer " + TOKEN)).isTrue();
    assertThat(guard.permits("Bearer " + TOKEN.substring(1))).isFalse();
    assertThat(guard.permits(null)).isFalse();
    assertThat(guard.permits("Bearer")).isFalse();
  }
}

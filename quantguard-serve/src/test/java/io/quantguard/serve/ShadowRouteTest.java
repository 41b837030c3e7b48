package io.quantguard.serve;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.onnx.TestModels;
import io.quantguard.runtime.Tensor;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The rollout seam: a router that sends every request to version 1 and shadows it on version 2, and
 * an observer that receives both outcomes. The client sees only version 1.
 */
class ShadowRouteTest {
  @Test
  void shadowRunsOnTheSideAndTheObserverSeesBothOutcomes() throws Exception {
    BlockingQueue<Exchange> seen = new LinkedBlockingQueue<>();
    ModelKey v1 = new ModelKey("cnn", 1);
    ModelKey v2 = new ModelKey("cnn", 2);
    Router shadowing =
        (model, version, catalog) ->
            version == null ? new Route(v1, v2) : Router.pinned().route(model, version, catalog);
    try (InferenceServer server =
        InferenceServer.builder()
            .config(ServerConfig.defaults().withPort(0).withThreads(2))
            .model(new ModelSource.File("cnn", 1, TestModels.fashionCnn()))
            .model(new ModelSource.File("cnn", 2, TestModels.fashionCnn()))
            .router(shadowing)
            .observer(seen::add)
            .build()
            .start()) {
      Tensor images = Responses.images(2, 9);
      Http.Response r =
          Http.post(
              server.url() + "/v2/models/cnn/infer",
              RequestBody.json("s-1", Map.of("image", images)));
      assertThat(r.status()).as(r.text()).isEqualTo(200);
      assertThat(r.json().path("model_version").asText()).isEqualTo("1");

      Exchange e = seen.poll(30, TimeUnit.SECONDS);
      assertThat(e).isNotNull();
      assertThat(e.requestId()).isEqualTo("s-1");
      assertThat(e.inputs().get("image").floats()).containsExactly(images.floats());
      assertThat(e.primary()).isInstanceOf(Outcome.Success.class);
      assertThat(e.shadowOutcome()).get().isInstanceOf(Outcome.Success.class);
      float[] primary = ((Outcome.Success) e.primary()).outputs().get("logits").floats();
      float[] shadow = ((Outcome.Success) e.shadow()).outputs().get("logits").floats();
      assertThat(e.primary().key()).isEqualTo(v1);
      assertThat(e.shadow().key()).isEqualTo(v2);
      assertThat(shadow).containsExactly(primary);
      assertThat(Responses.outputs(r).get("logits").floats()).containsExactly(primary);

      // A pinned version is not shadowed.
      Http.Response pinned =
          Http.post(
              server.url() + "/v2/models/cnn/versions/2/infer",
              RequestBody.json("s-2", Map.of("image", images)));
      assertThat(pinned.json().path("model_version").asText()).isEqualTo("2");
      Exchange p = seen.poll(30, TimeUnit.SECONDS);
      assertThat(p.requestId()).isEqualTo("s-2");
      assertThat(p.shadowOutcome()).isEmpty();
    }
  }
}

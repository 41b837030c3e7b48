package io.quantguard.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.NotFoundResponse;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The rollout's HTTP endpoints: {@code GET /v2/rollouts/NAME} (where it stands, the live window,
 * the last decision) and {@code POST /v2/rollouts/NAME/promote|rollback|pause|resume} with an
 * optional JSON body {@code {"reason": "..."}}. The POSTs change what the server does, so they pass
 * the {@link BearerTokenGuard} first: without the token they answer 401 and nothing changes.
 */
final class RolloutEndpoints {
  private final RolloutController rollout;
  private final BearerTokenGuard guard;

  RolloutEndpoints(RolloutController rollout, BearerTokenGuard guard) {
    this.rollout = rollout;
    this.guard = guard;
  }

  void register(RoutesConfig r) {
    r.get("/v2/rollouts/{name}", ctx -> json(ctx, Map.of("rollout", named(ctx).status())));
    r.post("/v2/rollouts/{name}/promote", ctx -> act(ctx, "promote"));
    r.post("/v2/rollouts/{name}/rollback", ctx -> act(ctx, "rollback"));
    r.post("/v2/rollouts/{name}/pause", ctx -> act(ctx, "pause"));
    r.post("/v2/rollouts/{name}/resume", ctx -> act(ctx, "resume"));
  }

  private RolloutController named(Context ctx) {
    String name = ctx.pathParam("name");
    if (!name.equals(rollout.candidate().name())) {
      throw new NotFoundResponse(
          "no rollout of '"
              + (name.length() > 64 ? name.substring(0, 64) + "..." : name)
              + "' on this server; it rolls out "
              + rollout.candidate());
    }
    return rollout;
  }

  private void act(Context ctx, String action) {
    guard.handle(ctx);
    RolloutController r = named(ctx);
    String reason = reason(ctx, action);
    RolloutDecision d =
        switch (action) {
          case "promote" -> r.promote(reason);
          case "rollback" -> r.rollback(reason);
          case "pause" -> r.pause(reason);
          default -> r.resume(reason);
        };
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("decision", d.decision());
    out.put("state", d.status().id());
    out.put("share", d.share());
    out.put("reason", d.reason());
    json(ctx, out);
  }

  /** The body's {@code reason}, else one naming the action as an operator's. */
  private static String reason(Context ctx, String action) {
    String body = ctx.body();
    if (!body.isBlank()) {
      try {
        JsonNode n = OipCodec.JSON.readTree(body);
        if (n.hasNonNull("reason") && !n.get("reason").asText().isBlank()) {
          return n.get("reason").asText();
        }
      } catch (JsonProcessingException e) {
        throw OipException.badRequest(
            "the body is not JSON: send {\"reason\": \"...\"} or nothing");
      }
    }
    return action + " by an operator through the server";
  }

  private static void json(Context ctx, Object value) {
    try {
      ctx.contentType("application/json").result(OipCodec.JSON.writeValueAsBytes(value));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}

package io.quantguard.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /v2/feedback} (behind the token): labels for earlier requests, {@code {"feedback":
 * [{"id": "r-17", "labels": [3, 0]}, ...]}} or one such object; the answer counts what was joined
 * and lists ids no longer (or never) in the window. {@code GET /v2/feedback}: live accuracy and
 * macro-F1 per version.
 */
final class FeedbackEndpoints {
  private static final int MAX_ITEMS = 10_000;
  private final LabelFeedback feedback;
  private final BearerTokenGuard guard;

  FeedbackEndpoints(LabelFeedback feedback, BearerTokenGuard guard) {
    this.feedback = feedback;
    this.guard = guard;
  }

  void register(RoutesConfig r) {
    r.get("/v2/feedback", ctx -> json(ctx, feedback.summary()));
    r.post("/v2/feedback", this::post);
  }

  private void post(Context ctx) {
    guard.handle(ctx);
    JsonNode root;
    try {
      root = OipCodec.JSON.readTree(ctx.body());
    } catch (JsonProcessingException e) {
      throw OipException.badRequest("the feedback is not JSON: " + e.getOriginalMessage());
    }
    JsonNode items = root != null && root.has("feedback") ? root.get("feedback") : root;
    List<JsonNode> list = new ArrayList<>();
    if (items != null && items.isArray()) {
      items.forEach(list::add);
    } else if (items != null && items.isObject()) {
      list.add(items);
    }
    if (list.isEmpty() || list.size() > MAX_ITEMS) {
      throw OipException.badRequest(
          "send {\"feedback\": [{\"id\": \"REQUEST_ID\", \"labels\": [CLASS, ...]}]} with 1 to "
              + MAX_ITEMS
              + " items");
    }
    // Check every item before joining any, so a bad item changes nothing.
    List<String> ids = new ArrayList<>();
    List<int[]> labels = new ArrayList<>();
    for (JsonNode item : list) {
      JsonNode id = item.get("id");
      JsonNode l = item.get("labels");
      if (id == null || !id.isTextual() || l == null || !l.isArray() || l.isEmpty()) {
        throw OipException.badRequest(
            "each feedback item needs \"id\" (the request's id) and \"labels\" (one class index per"
                + " row)");
      }
      int[] v = new int[l.size()];
      for (int i = 0; i < v.length; i++) {
        if (!l.get(i).canConvertToInt() || !l.get(i).isIntegralNumber() || l.get(i).asInt() < 0) {
          throw OipException.badRequest(
              "labels of '" + abbreviate(id.asText()) + "' must be class indices (0 or more)");
        }
        v[i] = l.get(i).asInt();
      }
      ids.add(id.asText());
      labels.add(v);
    }
    int joined = 0;
    List<String> unknown = new ArrayList<>();
    for (int i = 0; i < ids.size(); i++) {
      try {
        if (feedback.label(ids.get(i), labels.get(i)) == LabelFeedback.Join.JOINED) {
          joined++;
        } else {
          unknown.add(ids.get(i));
        }
      } catch (IllegalArgumentException e) {
        throw OipException.badRequest(String.valueOf(e.getMessage()));
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("joined", joined);
    out.put("unknown", unknown.stream().limit(100).toList());
    json(ctx, out);
  }

  private static String abbreviate(String s) {
    return s.length() > 64 ? s.substring(0, 64) + "..." : s;
  }

  private static void json(Context ctx, Object value) {
    try {
      ctx.contentType("application/json").result(OipCodec.JSON.writeValueAsBytes(value));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}

package io.quantguard.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.javalin.config.JavalinConfig;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.NotFoundResponse;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP endpoints: the Open Inference Protocol v2 REST API (health, server and model metadata,
 * readiness, inference), its model repository extension (index, load, unload; the last two behind
 * the {@link BearerTokenGuard}) and {@code /metrics}. Errors are {@code {"error": message}}.
 */
final class OipEndpoints {
  private static final Logger LOG = LoggerFactory.getLogger(OipEndpoints.class);
  private static final String START = "quantguard.start";
  private static final String KEY = "quantguard.key";
  private static final String ENDPOINT = "quantguard.endpoint";
  private static final String HEADER_LENGTH = "Inference-Header-Content-Length";
  private static final String JSON = "application/json";

  /** How many times the body limit the server still reads to deliver its 413 cleanly. */
  private static final long DRAIN_FACTOR = 8;

  private final InferenceServer server;

  OipEndpoints(InferenceServer server) {
    this.server = server;
  }

  void register(JavalinConfig c) {
    RoutesConfig r = c.routes;
    r.before(ctx -> ctx.attribute(START, System.nanoTime()));
    r.get(
        "/v2/health/live",
        ctx -> {
          ctx.attribute(ENDPOINT, "health");
          json(ctx, Map.of("live", true));
        });
    r.get("/v2/health/ready", this::serverReady);
    r.get("/v2", this::serverMetadata);
    r.get("/v2/models/{name}", ctx -> modelMetadata(ctx, null));
    r.get("/v2/models/{name}/versions/{version}", ctx -> modelMetadata(ctx, version(ctx)));
    r.get("/v2/models/{name}/ready", ctx -> modelReady(ctx, null));
    r.get("/v2/models/{name}/versions/{version}/ready", ctx -> modelReady(ctx, version(ctx)));
    r.post("/v2/models/{name}/infer", ctx -> infer(ctx, null));
    r.post("/v2/models/{name}/versions/{version}/infer", ctx -> infer(ctx, version(ctx)));
    r.post("/v2/repository/index", this::repositoryIndex);
    r.post("/v2/repository/models/{name}/load", ctx -> repository(ctx, true));
    r.post("/v2/repository/models/{name}/unload", ctx -> repository(ctx, false));
    r.get(
        "/metrics",
        ctx -> {
          ctx.attribute(ENDPOINT, "metrics");
          ctx.contentType(ServerMetrics.CONTENT_TYPE).result(server.metrics().scrape());
        });

    r.exception(OipException.class, (e, ctx) -> error(ctx, e.status(), e.getMessage()));
    r.exception(HttpResponseException.class, (e, ctx) -> error(ctx, e.getStatus(), e.getMessage()));
    r.exception(InvalidInputException.class, (e, ctx) -> error(ctx, 400, e.getMessage()));
    r.exception(
        Exception.class,
        (e, ctx) -> {
          LOG.error("internal error on {} {}", ctx.method(), ctx.path(), e);
          error(ctx, 500, "internal error: " + e.getClass().getSimpleName());
        });
    r.after(
        ctx -> {
          Long start = ctx.attribute(START);
          String endpoint = ctx.attribute(ENDPOINT);
          long nanos = start == null ? 0 : System.nanoTime() - start;
          ModelKey key = ctx.attribute(KEY);
          server
              .metrics()
              .request(endpoint == null ? "other" : endpoint, key, ctx.statusCode(), nanos);
          if ("infer".equals(endpoint) && key != null) {
            server.answered(key, ctx.statusCode(), nanos);
          }
        });
  }

  // ---------------------------------------------------------------- health and metadata

  private void serverReady(Context ctx) {
    ctx.attribute(ENDPOINT, "health");
    if (!server.ready()) {
      throw OipException.unavailable("not ready: models are loading or the server is stopping");
    }
    json(ctx, Map.of("ready", true));
  }

  private void serverMetadata(Context ctx) {
    ctx.attribute(ENDPOINT, "metadata");
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", "quantguard");
    m.put("version", server.version());
    m.put("extensions", List.of("binary_tensor_data", "model_repository"));
    json(ctx, m);
  }

  private void modelMetadata(Context ctx, @Nullable Integer version) {
    ctx.attribute(ENDPOINT, "metadata");
    ModelKey key = resolve(ctx.pathParam("name"), version);
    ctx.attribute(KEY, key);
    ModelSignature sig = server.catalog().signature(key).orElseThrow(() -> notLoaded(key));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", key.name());
    m.put(
        "versions",
        server.catalog().versions(key.name()).stream()
            .map(k -> Integer.toString(k.version()))
            .toList());
    m.put("platform", "onnxruntime_onnx");
    m.put("inputs", specs(sig.inputs()));
    m.put("outputs", specs(sig.outputs()));
    json(ctx, m);
  }

  private static List<Map<String, Object>> specs(List<TensorSpec> specs) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (TensorSpec s : specs) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", s.name());
      m.put("datatype", s.datatype());
      m.put("shape", s.shape());
      out.add(m);
    }
    return out;
  }

  private void modelReady(Context ctx, @Nullable Integer version) {
    ctx.attribute(ENDPOINT, "health");
    String name = ctx.pathParam("name");
    ModelKey key;
    try {
      key = resolve(name, version);
    } catch (NotFoundResponse e) {
      if (version == null && server.sources().stream().anyMatch(s -> s.name().equals(name))) {
        throw OipException.unavailable("model '" + name + "' is unloaded");
      }
      throw e;
    }
    ctx.attribute(KEY, key);
    if (!server.ready()) {
      throw OipException.unavailable("model " + key + " is not ready: the server is stopping");
    }
    json(
        ctx, Map.of("name", key.name(), "version", Integer.toString(key.version()), "ready", true));
  }

  /** The version a URL names, else the model's default: as {@link Router#pinned()} routes. */
  private ModelKey resolve(String name, @Nullable Integer version) {
    return Router.pinned().route(name, version, server.catalog()).primary();
  }

  private static Integer version(Context ctx) {
    String v = ctx.pathParam("version");
    if (!v.matches("[0-9]{1,9}") || Integer.parseInt(v) < 1) {
      throw new NotFoundResponse(
          "model '" + ctx.pathParam("name") + "' has no version '" + abbreviate(v) + "'");
    }
    return Integer.parseInt(v);
  }

  private static OipException notLoaded(ModelKey key) {
    return OipException.unavailable("model " + key + " is not loaded");
  }

  // ---------------------------------------------------------------- inference

  private void infer(Context ctx, @Nullable Integer version) {
    ctx.attribute(ENDPOINT, "infer");
    if (!server.ready()) {
      throw OipException.unavailable("not ready: models are loading or the server is stopping");
    }
    checkContentType(ctx);
    Route route = server.router().route(ctx.pathParam("name"), version, server.catalog());
    InferenceServer.Served primary =
        server.served(route.primary()).orElseThrow(() -> notLoaded(route.primary()));
    ctx.attribute(KEY, primary.key());
    byte[] body = body(ctx);
    InferRequest request =
        OipCodec.decode(
            body,
            headerLength(ctx),
            primary.key(),
            primary.batcher().signature(),
            server.config().rejectNonFinite());
    String slice = slice(ctx, request);
    CompletableFuture<Outcome> main = run(primary, request.inputs(), request.outputNames());
    if (route.shadow() != null || server.observed()) {
      CompletableFuture<Outcome> side =
          route.shadow() == null
              ? CompletableFuture.completedFuture(null)
              : shadow(route.shadow(), request);
      main.thenAcceptBoth(
          side,
          (m, s) -> server.observe(new Exchange(request.id(), request.inputs(), m, s, slice)));
    }
    ctx.future(
        () -> main.thenAcceptAsync(outcome -> respond(ctx, request, outcome), server.responders()));
  }

  /**
   * The request's slice: its {@code slice} parameter or the {@value TrafficSlices#HEADER} header;
   * both may be given when they agree.
   */
  private static @Nullable String slice(Context ctx, InferRequest request) {
    String header = ctx.header(TrafficSlices.HEADER);
    if (header == null) {
      return request.slice();
    }
    String h = TrafficSlices.check(header.trim(), "the " + TrafficSlices.HEADER + " header");
    if (request.slice() != null && !request.slice().equals(h)) {
      throw OipException.badRequest(
          "the "
              + TrafficSlices.HEADER
              + " header names slice '"
              + h
              + "' but parameters.slice names '"
              + request.slice()
              + "': give one, or the same in both");
    }
    return h;
  }

  private static void checkContentType(Context ctx) {
    String type = ctx.header("Content-Type");
    if (type == null || type.isBlank()) {
      return;
    }
    String base = type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    if (!base.equals(JSON) && !base.equals("application/octet-stream")) {
      throw new OipException(
          415,
          "Content-Type "
              + abbreviate(type)
              + " is not accepted: send application/json, or application/octet-stream with "
              + HEADER_LENGTH
              + " for binary tensor data");
    }
  }

  /**
   * The body, refused with 413 from its declared length, or once it grows past the limit. A body up
   * to {@link #DRAIN_FACTOR} times the limit is read and discarded first: closing a connection with
   * unread bytes makes TCP send a reset that destroys the 413 before the client reads it.
   */
  private byte[] body(Context ctx) {
    long limit = server.config().maxBodyBytes();
    long declared = ctx.req().getContentLengthLong();
    try (InputStream in = ctx.req().getInputStream()) {
      if (declared > limit) {
        drain(in, limit);
        throw tooLarge(declared + " bytes", limit);
      }
      byte[] b = in.readNBytes((int) Math.min(limit + 1, Integer.MAX_VALUE - 8));
      if (b.length > limit) {
        drain(in, limit);
        throw tooLarge("over " + limit + " bytes", limit);
      }
      return b;
    } catch (IOException e) {
      throw OipException.badRequest("cannot read the request body: " + e.getMessage());
    }
  }

  /** Reads and drops what is left of a refused body; a client that went away ends it early. */
  private static void drain(InputStream in, long limit) {
    byte[] sink = new byte[8192];
    long left = Math.min(limit * DRAIN_FACTOR, 64L << 20);
    try {
      int n;
      while (left > 0 && (n = in.read(sink, 0, (int) Math.min(sink.length, left))) > 0) {
        left -= n;
      }
    } catch (IOException e) {
      LOG.debug("client closed while its refused body was drained", e);
    }
  }

  private static OipException tooLarge(String size, long limit) {
    return new OipException(
        413,
        "the body is "
            + size
            + "; this server takes at most "
            + limit
            + " bytes; send fewer rows per request");
  }

  private static @Nullable Integer headerLength(Context ctx) {
    String h = ctx.header(HEADER_LENGTH);
    if (h == null) {
      return null;
    }
    if (!h.trim().matches("[0-9]{1,10}") || Long.parseLong(h.trim()) > Integer.MAX_VALUE) {
      throw OipException.badRequest(
          HEADER_LENGTH + " is '" + abbreviate(h) + "', not the JSON header's size in bytes");
    }
    return Integer.parseInt(h.trim());
  }

  /** Queues a request on a version; the outcome is never exceptional. */
  private CompletableFuture<Outcome> run(
      InferenceServer.Served served, Map<String, Tensor> inputs, List<String> outputs) {
    long start = System.nanoTime();
    ModelKey key = served.key();
    try {
      return served
          .batcher()
          .submit(inputs, outputs)
          .handle(
              (out, ex) ->
                  ex == null
                      ? new Outcome.Success(key, out, System.nanoTime() - start)
                      : failure(key, ex, start));
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(failure(key, e, start));
    }
  }

  private static Outcome failure(ModelKey key, Throwable ex, long start) {
    Throwable e = ex instanceof CompletionException && ex.getCause() != null ? ex.getCause() : ex;
    long nanos = System.nanoTime() - start;
    if (e instanceof OipException o) {
      return new Outcome.Failure(key, o.status(), o.getMessage(), nanos);
    } else if (e instanceof InvalidInputException) {
      return new Outcome.Failure(key, 400, e.getMessage(), nanos);
    }
    LOG.error("internal error running {}", key, e);
    return new Outcome.Failure(
        key, 500, "internal error running " + key + ": " + e.getClass().getSimpleName(), nanos);
  }

  /** Runs the request on the shadow version too; its failures reach only the observer. */
  private CompletableFuture<Outcome> shadow(ModelKey key, InferRequest request) {
    InferenceServer.Served s = server.served(key).orElse(null);
    if (s == null) {
      return CompletableFuture.completedFuture(
          new Outcome.Failure(key, 503, "model " + key + " is not loaded", 0));
    }
    try {
      OipCodec.check(request.inputs(), key, s.batcher().signature());
    } catch (OipException e) {
      return CompletableFuture.completedFuture(
          new Outcome.Failure(key, e.status(), e.getMessage(), 0));
    }
    List<String> outputs =
        request.outputNames().stream()
            .filter(o -> s.batcher().signature().output(o).isPresent())
            .toList();
    return run(
        s, request.inputs(), outputs.isEmpty() ? s.batcher().signature().outputNames() : outputs);
  }

  private void respond(Context ctx, InferRequest request, Outcome outcome) {
    if (outcome instanceof Outcome.Failure f) {
      error(ctx, f.status(), f.message());
      return;
    }
    Outcome.Success s = (Outcome.Success) outcome;
    OipCodec.Encoded e = OipCodec.encode(s.key(), request.id(), request.outputs(), s.outputs());
    if (e.binary()) {
      ctx.header(HEADER_LENGTH, Integer.toString(e.jsonLength()));
      ctx.contentType("application/octet-stream");
    } else {
      ctx.contentType(JSON);
    }
    ctx.status(200).result(e.body());
  }

  // ---------------------------------------------------------------- repository extension

  private void repositoryIndex(Context ctx) {
    ctx.attribute(ENDPOINT, "repository");
    List<Map<String, Object>> out = new ArrayList<>();
    for (String name : server.sources().stream().map(ModelSource::name).distinct().toList()) {
      List<ModelKey> versions = server.catalog().versions(name);
      if (versions.isEmpty()) {
        out.add(Map.of("name", name, "state", "UNAVAILABLE", "reason", "unloaded"));
      }
      for (ModelKey k : versions) {
        out.add(Map.of("name", name, "version", Integer.toString(k.version()), "state", "READY"));
      }
    }
    json(ctx, out);
  }

  private void repository(Context ctx, boolean load) {
    ctx.attribute(ENDPOINT, "repository");
    server.config().guard().handle(ctx);
    String name = ctx.pathParam("name");
    List<ModelKey> keys = load ? server.load(name) : server.unload(name);
    json(
        ctx,
        Map.of(
            "name",
            name,
            load ? "loaded" : "unloaded",
            keys.stream().map(k -> Integer.toString(k.version())).toList()));
  }

  // ---------------------------------------------------------------- responses

  private static void json(Context ctx, Object value) {
    try {
      ctx.contentType(JSON).result(OipCodec.JSON.writeValueAsBytes(value));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void error(Context ctx, int status, @Nullable String message) {
    if (status == 429) {
      ctx.header("Retry-After", "1");
    }
    ctx.status(status).contentType(JSON).result(OipCodec.error(message));
  }

  private static String abbreviate(String s) {
    return s.length() > 64 ? s.substring(0, 64) + "..." : s;
  }
}

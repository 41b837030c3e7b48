package io.quantguard.serve;

import io.javalin.Javalin;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.SessionConfig;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.jspecify.annotations.Nullable;

/**
 * An Open Inference Protocol v2 server over ONNX Runtime: the models of a registry (or plain
 * files), dynamic batching per version, Prometheus metrics and graceful shutdown. See the package
 * documentation for the endpoints and the request path.
 *
 * <pre>{@code
 * try (InferenceServer server = InferenceServer.builder()
 *     .config(ServerConfig.defaults().withPort(0))
 *     .model(new ModelSource.File("cnn", 1, Path.of("cnn.onnx")))
 *     .build()
 *     .start()) {
 *   // POST server.url() + "/v2/models/cnn/infer"
 * }
 * }</pre>
 */
public final class InferenceServer implements AutoCloseable {
  /** One served version and where it came from: its batcher owns its runner. */
  record Served(ModelKey key, ModelSource source, String origin, Batcher batcher) {}

  private final ServerConfig config;
  private final String version;
  private final List<ModelSource> sources;
  private final Router router;
  private final @Nullable ExchangeObserver observer;
  private final @Nullable RolloutController rollout;
  private final @Nullable LabelFeedback feedback;
  private final Map<String, DriftMonitor> drift;
  private final Map<String, VariantSelector> adaptive;
  private final TrafficTimeline timeline;
  private final ServerMetrics metrics;
  private final Map<ModelKey, Served> served = new ConcurrentHashMap<>();
  private final Map<String, ModelKey> defaults = new ConcurrentHashMap<>();
  private final ModelCatalog catalog = new Catalog();
  private final ExecutorService responders;
  private final ThreadPoolExecutor observers;
  private volatile boolean ready;
  private volatile boolean draining;
  private @Nullable Javalin app;
  private int port;

  private InferenceServer(Builder b) {
    this.config = b.config;
    this.version = b.version;
    this.sources = List.copyOf(b.sources);
    this.adaptive = Map.copyOf(b.adaptive);
    this.router = adaptive.isEmpty() ? b.router : adaptiveRouter(b.router, adaptive);
    this.rollout = b.rollout;
    this.feedback = b.feedback;
    this.drift = Map.copyOf(b.drift);
    ExchangeObserver o = both(b.observer, b.feedback);
    for (DriftMonitor m : b.drift.values()) {
      o = both(o, m);
    }
    this.observer = o;
    this.timeline = new TrafficTimeline(b.rollout);
    this.metrics = new ServerMetrics(timeline);
    int cores = Runtime.getRuntime().availableProcessors();
    this.responders =
        Executors.newFixedThreadPool(Math.max(2, cores), daemon("quantguard-respond"));
    this.observers =
        new ThreadPoolExecutor(
            1,
            1,
            0,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(1024),
            daemon("quantguard-observe"),
            (task, pool) -> metrics.droppedObservation());
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Builds a server; nothing is opened until {@link #start}. */
  public static final class Builder {
    private ServerConfig config = ServerConfig.defaults();
    private String version = "unknown";
    private final List<ModelSource> sources = new ArrayList<>();
    private Router router = Router.pinned();
    private @Nullable ExchangeObserver observer;
    private @Nullable RolloutController rollout;
    private @Nullable LabelFeedback feedback;
    private final Map<String, DriftMonitor> drift = new java.util.LinkedHashMap<>();
    private final Map<String, VariantSelector> adaptive = new java.util.LinkedHashMap<>();

    private Builder() {}

    public Builder config(ServerConfig c) {
      this.config = c;
      return this;
    }

    /** The version {@code GET /v2} reports (QuantGuard's). */
    public Builder version(String v) {
      this.version = v;
      return this;
    }

    /** Serves a model; the first source of a name is its default version. */
    public Builder model(ModelSource source) {
      sources.add(source);
      return this;
    }

    public Builder router(Router r) {
      this.router = r;
      return this;
    }

    public Builder observer(ExchangeObserver o) {
      this.observer = o;
      return this;
    }

    /**
     * Runs a rollout: serves its baseline (the default version of its model) and its candidate,
     * routes and observes through it, judges it every interval while the server runs, and adds the
     * rollout endpoints ({@code /v2/rollouts/NAME}; promote, rollback, pause and resume behind the
     * token). Give no other source of the same model.
     */
    public Builder rollout(RolloutController r) {
      this.rollout = r;
      this.router = r;
      this.observer = r;
      r.sources().forEach(sources::add);
      return this;
    }

    /**
     * Joins late labels ({@code POST /v2/feedback}, behind the token) with the predictions of
     * recent requests, for live accuracy per version ({@code GET /v2/feedback}).
     */
    public Builder feedback(LabelFeedback f) {
      this.feedback = f;
      return this;
    }

    /**
     * Watches a served model for drift and calibration-range overflow ({@code GET
     * /v2/models/NAME/drift}, the drift and overflow meters); the server starts its interval clock
     * and closes it. When a rollout of the same model runs, its policy's rules on {@code
     * drift_share}, {@code psi} and {@code overflow_rate} are judged on the monitor's windows.
     */
    public Builder drift(DriftMonitor monitor) {
      if (drift.putIfAbsent(monitor.model(), monitor) != null) {
        throw new InvalidInputException(
            "drift monitor of " + monitor.model(),
            "is the second one for that model",
            "give one drift monitor per model");
      }
      return this;
    }

    /**
     * Keeps a model within a latency objective by switching the requests that name no version
     * between its served variants (see {@link VariantSelector}); the model's default version is
     * home. Not with a rollout of the same model, which routes that traffic itself.
     */
    public Builder adaptive(VariantSelector selector) {
      if (adaptive.putIfAbsent(selector.model(), selector) != null) {
        throw new InvalidInputException(
            "variant selector of " + selector.model(),
            "is the second one for that model",
            "give one latency objective per model");
      }
      return this;
    }

    public InferenceServer build() {
      for (String model : adaptive.keySet()) {
        if (rollout != null && rollout.candidate().name().equals(model)) {
          throw InvalidInputException.forParameter(
              "adaptive.model",
              model,
              "is under a rollout, which routes its traffic",
              "let the rollout finish before choosing variants by latency");
        }
        if (sources.stream().noneMatch(s -> s.name().equals(model))) {
          throw InvalidInputException.forParameter(
              "adaptive.model", model, "is not served", "serve the model and its variants");
        }
      }
      if (sources.isEmpty()) {
        throw InvalidInputException.forParameter(
            "server.models",
            null,
            "lists no model to serve",
            "give a registered model or a model file");
      }
      return new InferenceServer(this);
    }
  }

  /**
   * Binds the port (liveness answers at once, readiness 503), opens and warms up every model, then
   * turns ready. On failure everything opened so far is closed again.
   */
  public InferenceServer start() {
    try {
      Javalin javalin = Javalin.create(c -> configure(c));
      app = javalin;
      try {
        javalin.start(config.host(), config.port());
      } catch (io.javalin.util.JavalinBindException e) {
        throw InvalidInputException.forParameter(
            "server.address",
            config.host() + ":" + config.port(),
            "cannot be bound: " + e.getMessage(),
            "pick a free port (0 picks one) or stop what listens there",
            e);
      }
      port = javalin.port();
      for (ModelSource source : sources) {
        Served s = open(source);
        if (served.putIfAbsent(s.key(), s) != null) {
          s.batcher().stop(config.drainTimeout());
          throw new InvalidInputException(
              source.toString(),
              "is " + s.key() + ", which another model source already serves",
              "serve each version once");
        }
        defaults.putIfAbsent(s.key().name(), s.key());
      }
      for (VariantSelector v : adaptive.values()) {
        v.start(variants(v.model()), metrics.registry());
      }
      ready = true;
      timeline.start();
      for (DriftMonitor m : drift.values()) {
        m.bindMetrics(metrics.registry());
        m.start();
        if (rollout != null && rollout.candidate().name().equals(m.model())) {
          rollout.watch(m);
        }
      }
      if (rollout != null) {
        rollout.bindMetrics(metrics.registry());
        rollout.startAnalysis();
      }
      return this;
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private void configure(io.javalin.config.JavalinConfig c) {
    c.startup.showJavalinBanner = false;
    c.startup.showOldJavalinVersionWarning = false;
    c.jetty.modifyServer(
        s -> {
          // Jetty's graceful stop: refuse new requests, let those in flight finish.
          s.insertHandler(new GracefulHandler());
          s.setStopTimeout(config.drainTimeout().toMillis());
          s.setErrorHandler(new JsonErrorHandler());
        });
    new OipEndpoints(this).register(c);
    if (rollout != null) {
      new RolloutEndpoints(rollout, config.guard()).register(c.routes);
    }
    if (feedback != null) {
      new FeedbackEndpoints(feedback, config.guard()).register(c.routes);
    }
    if (!drift.isEmpty()) {
      new DriftEndpoints(drift).register(c.routes);
    }
    new DashboardEndpoints(timeline, rollout, drift.keySet(), adaptive, () -> models().keySet())
        .register(c.routes);
  }

  /** The session settings every version gets: its share of the threads. */
  SessionConfig sessionConfig() {
    return SessionConfig.defaults().withThreads(threadsPerVersion());
  }

  /** {@code max(1, threads / versions)}: the documented split. */
  public int threadsPerVersion() {
    return Math.max(1, config.threads() / sources.size());
  }

  private Served open(ModelSource source) {
    ModelLoader.LoadedModel m = ModelLoader.open(source, sessionConfig());
    return new Served(
        m.key(),
        source,
        m.origin(),
        new Batcher(m.key(), m.signature(), m.runner(), config.batching(), metrics));
  }

  /**
   * Opens every source named {@code name} again (a registry stage is resolved anew, so a promotion
   * takes effect) and swaps the new versions in; the old ones finish what they queued, then close.
   *
   * @return the versions now served
   * @throws io.javalin.http.NotFoundResponse when no source has that name
   */
  List<ModelKey> load(String name) {
    List<ModelSource> named = sources.stream().filter(s -> s.name().equals(name)).toList();
    if (named.isEmpty()) {
      throw new io.javalin.http.NotFoundResponse("no model '" + name + "' is configured");
    }
    List<Served> fresh = new ArrayList<>();
    try {
      for (ModelSource s : named) {
        fresh.add(open(s));
      }
    } catch (RuntimeException e) {
      fresh.forEach(s -> s.batcher().stop(config.drainTimeout()));
      throw e;
    }
    List<Served> old;
    synchronized (this) {
      old = served.values().stream().filter(s -> s.key().name().equals(name)).toList();
      old.forEach(s -> served.remove(s.key()));
      fresh.forEach(s -> served.put(s.key(), s));
      defaults.put(name, fresh.get(0).key());
    }
    old.forEach(s -> s.batcher().stop(config.drainTimeout()));
    VariantSelector selector = adaptive.get(name);
    if (selector != null) {
      selector.reprobe(variants(name));
    }
    return fresh.stream().map(Served::key).toList();
  }

  /** The served versions of {@code model}: its default version (home) first, then by version. */
  private synchronized List<Served> variants(String model) {
    ModelKey home = Objects.requireNonNull(defaults.get(model), model);
    List<Served> variants = new ArrayList<>();
    variants.add(Objects.requireNonNull(served.get(home), home::toString));
    served.values().stream()
        .filter(s -> s.key().name().equals(model) && !s.key().equals(home))
        .sorted(Comparator.comparing(Served::key))
        .forEach(variants::add);
    return variants;
  }

  /**
   * Stops serving every version named {@code name}; requests already queued finish first.
   *
   * @return the versions unloaded
   */
  List<ModelKey> unload(String name) {
    if (sources.stream().noneMatch(s -> s.name().equals(name))) {
      throw new io.javalin.http.NotFoundResponse("no model '" + name + "' is configured");
    }
    List<Served> old;
    synchronized (this) {
      old = served.values().stream().filter(s -> s.key().name().equals(name)).toList();
      old.forEach(s -> served.remove(s.key()));
      defaults.remove(name);
    }
    old.forEach(s -> s.batcher().stop(config.drainTimeout()));
    return old.stream().map(Served::key).toList();
  }

  /** The port the server listens on (useful with port 0). */
  public int port() {
    return port;
  }

  /** {@code http://HOST:PORT}. */
  public String url() {
    String host = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
    return "http://" + host + ":" + port();
  }

  /** Every served version with where it came from, sorted. */
  public Map<ModelKey, String> models() {
    Map<ModelKey, String> out = new java.util.TreeMap<>();
    served.values().forEach(s -> out.put(s.key(), s.origin()));
    return out;
  }

  public ModelCatalog catalog() {
    return catalog;
  }

  /** True once every model is open and warmed up, until shutdown begins. */
  public boolean ready() {
    return ready && !draining;
  }

  ServerConfig config() {
    return config;
  }

  String version() {
    return version;
  }

  Router router() {
    return router;
  }

  ServerMetrics metrics() {
    return metrics;
  }

  /** Takes an answered inference request's latency for the model's variant choice, if any. */
  void answered(ModelKey key, int status, long nanos) {
    VariantSelector v = adaptive.get(key.name());
    if (v != null) {
      v.record(key, status, nanos);
    }
  }

  ExecutorService responders() {
    return responders;
  }

  List<ModelSource> sources() {
    return sources;
  }

  Optional<Served> served(ModelKey key) {
    return Optional.ofNullable(served.get(key));
  }

  /** True when an observer is set, so exchanges are worth assembling. */
  boolean observed() {
    return observer != null;
  }

  /** Hands an exchange to the observer thread; drops and counts it when that thread is behind. */
  void observe(Exchange exchange) {
    observers.execute(
        () -> {
          try {
            if (observer != null) {
              observer.observe(exchange);
            }
          } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(InferenceServer.class)
                .warn("the exchange observer failed", e);
          }
        });
  }

  /**
   * Graceful shutdown: readiness turns 503 and new inference requests are refused, requests in
   * flight finish (up to the drain timeout), then the sessions close. Idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (draining) {
        return;
      }
      draining = true;
    }
    if (rollout != null) {
      rollout.close();
    }
    drift.values().forEach(DriftMonitor::close);
    adaptive.values().forEach(VariantSelector::close);
    timeline.close();
    if (app != null) {
      app.stop();
    }
    served.values().forEach(s -> s.batcher().stop(config.drainTimeout()));
    served.clear();
    responders.shutdown();
    observers.shutdown();
    try {
      observers.awaitTermination(config.drainTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Requests naming no version of an adaptive model go to its active variant. */
  private static Router adaptiveRouter(Router base, Map<String, VariantSelector> adaptive) {
    return (model, version, catalog) -> {
      VariantSelector v = version == null ? adaptive.get(model) : null;
      return v != null ? v.route(model, catalog) : base.route(model, version, catalog);
    };
  }

  private static @Nullable ExchangeObserver both(
      @Nullable ExchangeObserver a, @Nullable ExchangeObserver b) {
    if (a == null || b == null) {
      return a != null ? a : b;
    }
    return e -> {
      a.observe(e);
      b.observe(e);
    };
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  private final class Catalog implements ModelCatalog {
    @Override
    public List<ModelKey> versions(String name) {
      return served.keySet().stream()
          .filter(k -> k.name().equals(name))
          .sorted(Comparator.naturalOrder())
          .toList();
    }

    @Override
    public Optional<ModelKey> defaultVersion(String name) {
      return Optional.ofNullable(defaults.get(name));
    }

    @Override
    public Optional<ModelSignature> signature(ModelKey key) {
      return served(key).map(s -> s.batcher().signature());
    }
  }
}

package io.quantguard.cli;

import io.quantguard.cli.registry.ActorOption;
import io.quantguard.cli.registry.StoreOptions;
import io.quantguard.evaluate.drift.ReferenceProfile;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.QuantGuard;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.Registry;
import io.quantguard.report.Policy;
import io.quantguard.runtime.data.DataSpec;
import io.quantguard.serve.AdaptiveSettings;
import io.quantguard.serve.BatchPolicy;
import io.quantguard.serve.BearerTokenGuard;
import io.quantguard.serve.DriftMonitor;
import io.quantguard.serve.DriftSettings;
import io.quantguard.serve.InferenceServer;
import io.quantguard.serve.LabelFeedback;
import io.quantguard.serve.LatencyObjective;
import io.quantguard.serve.ModelKey;
import io.quantguard.serve.ModelSource;
import io.quantguard.serve.RolloutController;
import io.quantguard.serve.RolloutSettings;
import io.quantguard.serve.ServerConfig;
import io.quantguard.serve.VariantSelector;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code quantguard serve}: models from the registry (or files) over the Open Inference Protocol v2
 * REST API, until SIGTERM or Ctrl-C, which drain requests in flight before the sessions close
 * (library: {@code io.quantguard.serve}).
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Serve models over the Open Inference Protocol v2 (KServe v2) REST API, with dynamic"
          + " batching, Prometheus metrics at /metrics and graceful shutdown (SIGTERM drains).",
      "Models come from the registry (--model NAME, NAME@production, NAME@3; a bare name means"
          + " its production version) or from files (--model-file NAME=PATH)."
    })
final class ServeCommand implements Callable<Integer> {
  @Mixin StoreOptions store;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--model",
      paramLabel = "NAME[@STAGE|@VERSION]",
      description = "a registry model to serve (repeatable); the first of a name is its default")
  List<String> models = new ArrayList<>();

  @Option(
      names = "--model-file",
      paramLabel = "NAME[@VERSION]=PATH",
      description = "an ONNX file to serve as NAME (version 1 unless given; repeatable)")
  List<String> files = new ArrayList<>();

  @Option(
      names = "--host",
      defaultValue = "127.0.0.1",
      description = "address to bind (default: ${DEFAULT-VALUE}, this machine only)")
  String host;

  @Option(names = "--port", defaultValue = "8080", description = "0 picks a free port")
  int port;

  @Option(
      names = "--threads",
      description =
          "ONNX Runtime threads in all (default: every core), split evenly over the served"
              + " versions")
  @Nullable Integer threads;

  @Option(
      names = "--max-batch-size",
      defaultValue = "32",
      description = "rows per dynamic batch; 1 turns batching off (default: ${DEFAULT-VALUE})")
  int maxBatchSize;

  @Option(
      names = "--max-delay-ms",
      defaultValue = "2",
      description = "how long a batch waits for more requests (default: ${DEFAULT-VALUE})")
  double maxDelayMs;

  @Option(
      names = "--max-queue",
      defaultValue = "256",
      description = "requests waiting per version before 429 (default: ${DEFAULT-VALUE})")
  int maxQueue;

  @Option(
      names = "--max-body-mb",
      defaultValue = "64",
      description = "largest request body; larger ones get 413 (default: ${DEFAULT-VALUE})")
  double maxBodyMb;

  @Option(
      names = "--allow-non-finite",
      description = "accept NaN and infinity in FP32 inputs (refused with 400 by default)")
  boolean allowNonFinite;

  @Option(
      names = "--token-file",
      paramLabel = "FILE",
      description =
          "bearer token for load/unload (default: $QUANTGUARD_TOKEN; without one they are refused)")
  @Nullable Path tokenFile;

  @Option(
      names = "--drain-timeout-s",
      defaultValue = "30",
      description = "how long shutdown waits for requests in flight (default: ${DEFAULT-VALUE})")
  int drainTimeoutS;

  @Option(
      names = "--rollout",
      paramLabel = "MODEL@VERSION",
      description =
          "roll this registered version out against the model's production version, judged live"
              + " by --rollout-policy; a rollout of the model under way in the registry is resumed"
              + " (also without this option)")
  @Nullable String rollout;

  @Option(
      names = "--rollout-policy",
      paramLabel = "FILE",
      description =
          "the policy the live window must hold, on flip_rate, cosine_mean, cosine_min, the"
              + " cosine's tail (cosine_p0_1/p1/p5, cosine_below_0_99/0_98/0_95), sqnr_db,"
              + " error_rate, latency_p50/p95/p99")
  @Nullable Path rolloutPolicy;

  @Option(
      names = "--rollout-mode",
      defaultValue = "canary",
      description = "canary (a share of traffic) or shadow (default: ${DEFAULT-VALUE})")
  String rolloutMode;

  @Option(
      names = "--rollout-steps",
      split = ",",
      paramLabel = "PERCENT",
      defaultValue = "5,25,50,100",
      description = "the canary's traffic shares in percent, ending at 100 (default: 5,25,50,100)")
  List<Integer> rolloutSteps;

  @Option(
      names = "--rollout-interval-s",
      defaultValue = "60",
      description = "how often the live window is judged (default: ${DEFAULT-VALUE})")
  double rolloutIntervalS;

  @Option(
      names = "--rollout-min-samples",
      defaultValue = "200",
      description =
          "paired samples a window needs; fewer is inconclusive, neither pass nor fail"
              + " (default: ${DEFAULT-VALUE})")
  int rolloutMinSamples;

  @Option(
      names = "--rollout-max-failed-intervals",
      defaultValue = "2",
      description =
          "the failure budget: this many failed intervals roll the candidate back"
              + " (default: ${DEFAULT-VALUE})")
  int rolloutMaxFailed;

  @Option(names = "--reason", description = "why the rollout starts (recorded in the change log)")
  @Nullable String reason;

  @Mixin ActorOption actor;

  @Option(
      names = "--feedback-window",
      paramLabel = "REQUESTS",
      description =
          "keep the predictions of this many recent requests with an id, for labels posted later"
              + " to /v2/feedback (default: off)")
  @Nullable Integer feedbackWindow;

  @Option(
      names = "--drift",
      description =
          "watch the rollout's model and every --model for drift and calibration-range overflow"
              + " against the profile stored with the version or its FP32 parent (registry"
              + " profile), and every --model-file given --drift-profile or --drift-data;"
              + " GET /v2/models/NAME/drift")
  boolean drift;

  @Option(
      names = "--drift-profile",
      paramLabel = "NAME=FILE",
      description =
          "with --drift, the reference profile of a --model-file model: a profile file (as"
              + " registry profile --profile takes; repeatable)")
  Map<String, Path> driftProfiles = new LinkedHashMap<>();

  @Option(
      names = "--drift-data",
      paramLabel = "NAME=DATASPEC",
      description =
          "with --drift, build the reference profile of a --model-file model at start by running"
              + " it over this data (as registry profile --data; repeatable)")
  Map<String, String> driftData = new LinkedHashMap<>();

  @Option(
      names = "--drift-sample-share",
      defaultValue = "1",
      description = "share of requests in the drift window, 0 to 1 (default: ${DEFAULT-VALUE})")
  double driftSampleShare;

  @Option(
      names = "--overflow-sample-share",
      defaultValue = "0.05",
      description =
          "share of requests run once more through the FP32 model to count clipped activations"
              + " (default: ${DEFAULT-VALUE})")
  double overflowSampleShare;

  @Option(
      names = "--drift-interval-s",
      defaultValue = "60",
      description = "how often a drift window closes (default: ${DEFAULT-VALUE})")
  double driftIntervalS;

  @Option(
      names = "--adaptive",
      description =
          "keep --latency-objective for every model served in several versions (the first is"
              + " home): requests naming no version move to the next faster variant (measured at"
              + " start; one that failed its quality policy is never chosen) when the objective"
              + " breaks under load, and back when load falls; every switch is logged, counted"
              + " and recorded in the registry; GET /v2/models/NAME/variants")
  boolean adaptive;

  @Option(
      names = "--latency-objective",
      paramLabel = "pNN<=X",
      converter = ObjectiveConverter.class,
      description = "the latency --adaptive keeps, e.g. p95<=20ms (units us, ms, s)")
  @Nullable LatencyObjective latencyObjective;

  @Option(
      names = "--adaptive-window-s",
      defaultValue = "1",
      description = "how often --adaptive judges the latency (default: ${DEFAULT-VALUE})")
  double adaptiveWindowS;

  @Option(
      names = "--adaptive-dwell-s",
      defaultValue = "10",
      description = "least time between two variant switches (default: ${DEFAULT-VALUE})")
  double adaptiveDwellS;

  /** Reads {@code --latency-objective}; a bad one is a usage error. */
  static final class ObjectiveConverter implements ITypeConverter<LatencyObjective> {
    @Override
    public LatencyObjective convert(String value) {
      try {
        return LatencyObjective.parse(value);
      } catch (InvalidInputException e) {
        throw new TypeConversionException(
            "'" + value + "' " + e.problem() + (e.fix() != null ? "; " + e.fix() : ""));
      }
    }
  }

  private DriftSettings driftSettings() {
    return DriftSettings.defaults()
        .withSampleShare(driftSampleShare)
        .withOverflowShare(overflowSampleShare)
        .withInterval(Duration.ofMillis(Math.max(1, Math.round(driftIntervalS * 1000))));
  }

  /**
   * The drift monitors of the --model-file models that have a profile: from its file, or built now
   * over the data given (a registered model's lives in the registry). Their outputs are compared
   * with the profile's for whichever version answered.
   */
  private List<DriftMonitor> fileDrift() {
    if (driftProfiles.isEmpty() && driftData.isEmpty()) {
      return List.of();
    }
    if (!drift) {
      throw new ParameterException(
          spec.commandLine(), "--drift-profile and --drift-data need --drift");
    }
    Map<String, ModelSource.File> byName = new LinkedHashMap<>();
    files.stream().map(ModelSource::parseFile).forEach(f -> byName.putIfAbsent(f.name(), f));
    List<String> named = new ArrayList<>(driftProfiles.keySet());
    named.addAll(driftData.keySet());
    List<DriftMonitor> out = new ArrayList<>();
    for (String name : new java.util.LinkedHashSet<>(named)) {
      ModelSource.File f = byName.get(name);
      if (f == null) {
        throw new ParameterException(
            spec.commandLine(),
            "--drift-profile/--drift-data name '"
                + name
                + "', which no --model-file serves (files: "
                + String.join(", ", byName.keySet())
                + ")");
      }
      Path file = driftProfiles.get(name);
      String data = driftData.get(name);
      if (file != null && data != null) {
        throw new ParameterException(
            spec.commandLine(),
            "give --drift-profile or --drift-data for '" + name + "', not both");
      }
      ReferenceProfile profile =
          file != null
              ? ReferenceProfile.read(file)
              : ReferenceProfile.builder()
                  .model(name, f.path())
                  .data(DataSpec.parse(Objects.requireNonNull(data, name)))
                  .progress(TerminalProgress.forTerminal(spec.commandLine().getErr(), false))
                  .build();
      out.add(DriftMonitor.builder(name, profile).settings(driftSettings()).build());
    }
    return out;
  }

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    if (models.isEmpty() && files.isEmpty() && rollout == null) {
      spec.commandLine().getErr().println("error: nothing to serve: give --model or --model-file");
      return ExitCodes.USAGE;
    }
    ServerConfig config = config();
    InferenceServer.Builder builder =
        InferenceServer.builder().config(config).version(QuantGuard.VERSION);
    RolloutController controller = null;
    if (!models.isEmpty() || rollout != null) {
      Registry registry = store.open();
      controller = rollout(registry);
      for (String m : models) {
        ArtifactRef ref = ArtifactRef.parse(m);
        if (controller == null || !ref.model().equals(controller.candidate().name())) {
          builder.model(new ModelSource.Registered(registry, ref));
        }
      }
      if (controller != null) {
        builder.rollout(controller);
      }
      if (drift) {
        DriftSettings ds = driftSettings();
        if (controller != null) {
          builder.drift(DriftMonitor.forRollout(registry, controller, ds));
        }
        for (String m : models) {
          ArtifactRef ref = ArtifactRef.parse(m);
          if (controller == null || !ref.model().equals(controller.candidate().name())) {
            builder.drift(DriftMonitor.forModel(registry, ref, ds));
          }
        }
      }
    } else if (drift && driftProfiles.isEmpty() && driftData.isEmpty()) {
      throw new InvalidInputException(
          "--drift",
          "needs a reference profile: a registered model's, or one for a --model-file",
          "serve --model NAME or --rollout MODEL@VERSION after registry profile, or give"
              + " --drift-profile NAME=FILE or --drift-data NAME=DATASPEC for a --model-file");
    }
    files.forEach(f -> builder.model(ModelSource.parseFile(f)));
    fileDrift().forEach(builder::drift);
    List<VariantSelector> selectors = adaptive();
    selectors.forEach(builder::adaptive);
    if (feedbackWindow != null) {
      if (feedbackWindow < 1) {
        throw new InvalidInputException(
            "--feedback-window " + feedbackWindow, "must be at least 1", "e.g. 100000");
      }
      builder.feedback(new LabelFeedback(feedbackWindow));
    }
    InferenceServer server = builder.build().start();
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              server.close();
              stopped.countDown();
            },
            "quantguard-serve-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    report(out, server, config, controller, selectors);
    try {
      stopped.await();
    } catch (InterruptedException e) {
      // Stopped in-process (tests, embedding): drain and close as SIGTERM would.
      server.close();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // The JVM is exiting anyway; the hook closes the server.
      }
    }
    return ExitCodes.OK;
  }

  /**
   * The rollout to run: the one under way in the registry for the rollout's model (or, without
   * --rollout, for a served model), else a new one from the options; null when there is none.
   */
  private @Nullable RolloutController rollout(Registry registry) {
    ArtifactRef candidate = rollout == null ? null : ArtifactRef.parse(rollout);
    List<String> names =
        candidate != null
            ? List.of(candidate.model())
            : models.stream().map(m -> ArtifactRef.parse(m).model()).distinct().toList();
    for (String name : names) {
      Optional<RolloutController> resumed = RolloutController.resume(registry, name, actor.get());
      if (resumed.isPresent()) {
        ModelKey running = resumed.get().candidate();
        if (candidate != null
            && candidate.version() != null
            && candidate.version() != running.version()) {
          throw new InvalidInputException(
              "--rollout " + rollout,
              "cannot start: the rollout of " + running + " is under way in the registry",
              "let it finish, or end it: POST /v2/rollouts/" + name + "/rollback");
        }
        return resumed.get();
      }
    }
    if (candidate == null) {
      return null;
    }
    if (candidate.version() == null) {
      throw new InvalidInputException(
          "--rollout " + rollout, "names no version", "give MODEL@VERSION, e.g. cnn@3");
    }
    if (rolloutPolicy == null) {
      throw new InvalidInputException(
          "--rollout " + rollout,
          "needs a policy to judge the live window by",
          "give --rollout-policy FILE, e.g. with rules: {flip_rate: {max: 2%}}");
    }
    RolloutSettings settings =
        new RolloutSettings(
            RolloutSettings.Mode.parse(rolloutMode),
            rolloutSteps,
            Duration.ofMillis(Math.round(rolloutIntervalS * 1000)),
            rolloutMinSamples,
            rolloutMaxFailed);
    return RolloutController.start(
        registry,
        candidate,
        settings,
        Policy.text(rolloutPolicy),
        rolloutPolicy.toString(),
        reason != null ? reason : "rollout started by quantguard serve",
        actor.get());
  }

  /** One variant selector per model served in several versions, when --adaptive is given. */
  private List<VariantSelector> adaptive() {
    if (!adaptive) {
      if (latencyObjective != null) {
        throw new ParameterException(
            spec.commandLine(), "--latency-objective is kept only with --adaptive");
      }
      return List.of();
    }
    if (latencyObjective == null) {
      throw new ParameterException(
          spec.commandLine(), "--adaptive needs --latency-objective, e.g. p95<=20ms");
    }
    if (!(adaptiveWindowS > 0) || !(adaptiveDwellS >= 0)) {
      throw new ParameterException(
          spec.commandLine(),
          "--adaptive-window-s must be above 0 and --adaptive-dwell-s not negative");
    }
    Map<String, Integer> versions = new LinkedHashMap<>();
    models.forEach(m -> versions.merge(ArtifactRef.parse(m).model(), 1, Integer::sum));
    files.forEach(f -> versions.merge(ModelSource.parseFile(f).name(), 1, Integer::sum));
    List<String> several =
        versions.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).toList();
    if (several.isEmpty()) {
      throw new ParameterException(
          spec.commandLine(),
          "--adaptive needs a model served in several versions to choose between: give its"
              + " variants too, e.g. --model cnn --model cnn@2");
    }
    AdaptiveSettings settings =
        AdaptiveSettings.of(latencyObjective)
            .withWindow(Duration.ofMillis(Math.max(1, Math.round(adaptiveWindowS * 1000))))
            .withDwell(Duration.ofMillis(Math.round(adaptiveDwellS * 1000)));
    return several.stream().map(m -> new VariantSelector(m, settings, actor.get())).toList();
  }

  private ServerConfig config() {
    if (maxDelayMs < 0 || maxBodyMb <= 0 || drainTimeoutS < 0) {
      throw new InvalidInputException(
          "--max-delay-ms/--max-body-mb/--drain-timeout-s",
          "must not be negative (and the body limit above 0)",
          "give a delay >= 0, a body limit > 0 and a drain timeout >= 0");
    }
    BatchPolicy batching;
    try {
      batching =
          new BatchPolicy(maxBatchSize, Duration.ofNanos(Math.round(maxDelayMs * 1e6)), maxQueue);
      return new ServerConfig(
          host,
          port,
          threads != null ? threads : Runtime.getRuntime().availableProcessors(),
          batching,
          Math.round(Math.min(maxBodyMb * (1 << 20), Integer.MAX_VALUE - 16)),
          !allowNonFinite,
          Duration.ofSeconds(drainTimeoutS),
          BearerTokenGuard.from(tokenFile, System.getenv("QUANTGUARD_TOKEN")));
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(
          "serve options", String.valueOf(e.getMessage()), "see quantguard serve --help");
    }
  }

  private void report(
      PrintWriter out,
      InferenceServer server,
      ServerConfig config,
      @Nullable RolloutController controller,
      List<VariantSelector> selectors) {
    Map<ModelKey, String> served = server.models();
    if (store.json()) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("url", server.url());
      Map<String, String> m = new LinkedHashMap<>();
      served.forEach((k, v) -> m.put(k.toString(), v));
      doc.put("models", m);
      doc.put("threads_per_version", server.threadsPerVersion());
      doc.put("max_batch_size", config.batching().maxBatchSize());
      doc.put("token", config.guard().configured());
      doc.put("adaptive", selectors.stream().map(VariantSelector::status).toList());
      Output.json(out, doc);
      return;
    }
    out.printf("Serving     %s (Open Inference Protocol v2)%n", server.url());
    served.forEach((k, origin) -> out.printf("Model       %-20s %s%n", k, origin));
    out.printf(
        "Threads     %d per version (%d in all over %d)%n",
        server.threadsPerVersion(), config.threads(), served.size());
    out.printf(
        "Batching    %s%n",
        config.batching().enabled()
            ? "up to "
                + config.batching().maxBatchSize()
                + " rows within "
                + config.batching().maxDelay().toNanos() / 1e6
                + " ms, "
                + config.batching().maxQueue()
                + " waiting at most"
            : "off");
    out.printf(
        "Token       %s%n",
        config.guard().configured()
            ? "set: load/unload and rollout actions need Authorization: Bearer TOKEN"
            : "none: load/unload and rollout actions are refused");
    if (!isLoopback(config.host()) && !config.guard().configured()) {
      out.printf(
          "Warning     %s is reachable from other machines and there is no token%n", config.host());
    }
    if (controller != null) {
      Map<String, Object> st = controller.status();
      out.printf(
          "Rollout     %s against %s: %s, %s at %s of %s; GET %s/v2/rollouts/%s%n",
          controller.candidate(),
          controller.baseline(),
          st.get("mode"),
          st.get("state"),
          Math.round((double) Objects.requireNonNull(st.get("share"), "status has the share") * 100)
              + " %",
          st.get("steps"),
          server.url(),
          controller.candidate().name());
    }
    if (drift) {
      out.printf(
          "Drift       %s%% of requests, %s%% through the overflow probe, a window every %s s;"
              + " GET %s/v2/models/NAME/drift%n",
          Math.round(driftSampleShare * 1000) / 10.0,
          Math.round(overflowSampleShare * 1000) / 10.0,
          driftIntervalS,
          server.url());
    }
    for (VariantSelector v : selectors) {
      out.printf(
          "Adaptive    %s keeps %s on %s%s; GET %s/v2/models/%s/variants%n",
          v.model(),
          v.settings().objective(),
          String.join(
              " -> ",
              v.ladder().stream()
                  .map(
                      r ->
                          r.key()
                              + String.format(java.util.Locale.ROOT, " (%.2f ms)", r.probeMillis()))
                  .toList()),
          v.refused().isEmpty() ? "" : ", never " + v.refused().keySet(),
          server.url(),
          v.model());
    }
    out.println("Metrics     " + server.url() + "/metrics");
    out.println("Stop        Ctrl-C or SIGTERM (requests in flight finish first)");
  }

  private static boolean isLoopback(String host) {
    return host.equals("127.0.0.1") || host.equals("localhost") || host.equals("::1");
  }
}

package io.quantguard.serve;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quantguard.evaluate.drift.CalibrationRanges;
import io.quantguard.evaluate.drift.DriftResult;
import io.quantguard.evaluate.drift.DriftWindow;
import io.quantguard.evaluate.drift.Feature;
import io.quantguard.evaluate.drift.OverflowMeter;
import io.quantguard.evaluate.drift.OverflowProbe;
import io.quantguard.evaluate.drift.ReferenceProfile;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.ArtifactVersion;
import io.quantguard.registry.Registry;
import io.quantguard.report.CalibrationCoverage;
import io.quantguard.report.Measure;
import io.quantguard.report.Policy;
import io.quantguard.report.Rule;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches one served model's traffic against its reference profile, in the server: an {@link
 * ExchangeObserver} that hands a sampled share of the requests to a drift worker of its own (a
 * single thread behind a bounded queue: a sample that finds the queue full is dropped and counted,
 * the request path never waits). The worker adds each sample to the open {@link DriftWindow}
 * (inputs, and the outputs of the version the profile describes), to a paired quality window when a
 * candidate runs beside that version, and, for the overflow share, runs the FP32 model once more
 * with the calibrated tensors exposed ({@link OverflowProbe}) into an {@link OverflowMeter}.
 *
 * <p>Every interval the open window is closed and compared with the reference (KS, chi-square,
 * normed Wasserstein, Jensen–Shannon, PSI per feature), the overflow rate per tensor is read off,
 * and the closed window joins a bounded history over which {@link Attribution} ranks the drift and
 * overflow series by how closely they followed a fall of the live cosine. The latest closed window
 * is what the gauges, {@code GET /v2/models/NAME/drift} and a rollout's policy (the keys {@link
 * #METRICS}) read. A monitor made from a registry ({@link #forModel}, {@link #forRollout}) keeps
 * its closed windows there ({@link KeptWindows}) and resumes them when the server restarts.
 */
public final class DriftMonitor implements ExchangeObserver, AutoCloseable {
  /** The policy keys a closed drift window answers. */
  public static final List<String> METRICS = List.of("drift_share", "psi", "overflow_rate");

  /**
   * The quality the attribution follows: the paired cosine's 5th percentile, because the damage of
   * traffic unlike the calibration data sits in a few requests that the mean hides.
   */
  static final String ATTRIBUTION_QUALITY = "cosine_p5";

  private static final Logger LOG = LoggerFactory.getLogger(DriftMonitor.class);
  private static final int WORST_SAMPLES = 5;
  private static final int TOP_TENSORS = 10;

  private final String model;
  private final ReferenceProfile profile;
  private final @Nullable ModelKey reference;
  private final @Nullable ModelKey candidate;
  private final @Nullable OverflowProbe probe;
  private final DriftSettings settings;
  private final @Nullable Policy policy;
  private final @Nullable KeptWindows kept;
  private final ThreadPoolExecutor worker;
  private final AtomicLong offered = new AtomicLong();
  private final AtomicLong sampled = new AtomicLong();
  private final AtomicLong probed = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong finished = new AtomicLong();
  private final Deque<Closed> history = new ArrayDeque<>();
  private final Object lock = new Object();
  private DriftWindow window;
  private @Nullable OverflowMeter meter;
  private @Nullable LiveWindow quality;
  private Instant openedAt = Instant.now();
  private volatile @Nullable Closed last;
  private @Nullable ScheduledExecutorService clock;
  private @Nullable Counter droppedCounter;

  /**
   * One closed window: the drift per feature, the overflow coverage (null without a probe), the
   * paired quality (null without a candidate; {@code tail}: the cosine's finite tail metrics,
   * {@link LiveWindow#TAIL}) and when it was open.
   */
  record Closed(
      Instant from,
      Instant to,
      DriftResult drift,
      CalibrationCoverage.@Nullable Slice overflow,
      @Nullable Double cosine,
      @Nullable Double flipRate,
      long paired,
      Map<String, Double> tail) {

    Closed {
      Map<String, Double> finiteTail = new LinkedHashMap<>();
      if (tail != null) {
        tail.forEach(
            (k, v) -> {
              if (v != null && Double.isFinite(v)) {
                finiteTail.put(k, v);
              }
            });
      }
      tail = java.util.Collections.unmodifiableMap(finiteTail);
    }

    /**
     * The window's paired quality by policy key ({@code cosine_mean} or a tail key); NaN if none.
     */
    double quality(String metric) {
      if (metric.equals("cosine_mean")) {
        return cosine == null ? Double.NaN : cosine;
      }
      return tail.getOrDefault(metric, Double.NaN);
    }

    double psiMax() {
      return drift.features().stream()
          .map(DriftResult.FeatureDrift::psi)
          .filter(p -> p != null)
          .mapToDouble(Double::doubleValue)
          .max()
          .orElse(Double.NaN);
    }

    double overflowRate() {
      return overflow == null || overflow.values() == 0 ? Double.NaN : overflow.rate();
    }
  }

  private DriftMonitor(Builder b, ReferenceProfile profile) {
    this.model = b.model;
    this.profile = profile;
    this.reference = b.reference;
    this.candidate = b.candidate;
    this.settings = b.settings;
    this.policy = b.policy;
    this.kept = b.registry == null ? null : new KeptWindows(b.registry, model, settings.history());
    if (kept != null) {
      List<Closed> resumed = kept.load();
      history.addAll(resumed);
      if (!resumed.isEmpty()) {
        last = resumed.get(resumed.size() - 1);
        LOG.info(
            "drift of {}: resumed {} closed windows kept in the registry", model, resumed.size());
      }
    }
    this.probe =
        b.fp32 == null || b.ranges == null || b.ranges.ranges().isEmpty()
            ? null
            : OverflowProbe.open(b.fp32, b.ranges, SessionConfig.defaults().withThreads(1));
    this.window = profile.newWindow();
    this.meter = newMeter();
    this.quality = newQuality();
    this.worker =
        new ThreadPoolExecutor(
            1,
            1,
            0,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(settings.queue()),
            r -> {
              Thread t = new Thread(r, "quantguard-drift-" + model);
              t.setDaemon(true);
              return t;
            });
  }

  public static Builder builder(String model, ReferenceProfile profile) {
    return new Builder(model, profile);
  }

  /** Collects what a monitor watches; {@link #build} opens the overflow probe. */
  public static final class Builder {
    private final String model;
    private final ReferenceProfile profile;
    private @Nullable ModelKey reference;
    private @Nullable ModelKey candidate;
    private @Nullable Path fp32;
    private @Nullable CalibrationRanges ranges;
    private DriftSettings settings = DriftSettings.defaults();
    private @Nullable Policy policy;
    private @Nullable Registry registry;

    private Builder(String model, ReferenceProfile profile) {
      this.model = model;
      this.profile = profile;
    }

    /**
     * The version whose outputs the profile describes (the FP32 baseline); without it the outputs
     * of whichever version answered the client are compared.
     */
    public Builder reference(ModelKey key) {
      this.reference = key;
      return this;
    }

    /** A version that runs beside the reference: its paired cosine is the attribution's quality. */
    public Builder candidate(ModelKey key) {
      this.candidate = key;
      return this;
    }

    /** Counts the activations {@code ranges} (a static quantizer's) clip, running {@code fp32}. */
    public Builder overflow(Path fp32Model, CalibrationRanges calibrated) {
      this.fp32 = fp32Model;
      this.ranges = calibrated;
      return this;
    }

    public Builder settings(DriftSettings s) {
      this.settings = s;
      return this;
    }

    /** The policy whose drift rules the endpoint shows as thresholds. */
    public Builder policy(Policy p) {
      this.policy = p;
      return this;
    }

    /**
     * Keeps every closed window in {@code r} (the newest {@code history} of them) and resumes from
     * those kept there, so that a restarted server keeps its drift history and attribution.
     */
    public Builder keepIn(Registry r) {
      this.registry = r;
      return this;
    }

    public DriftMonitor build() {
      return new DriftMonitor(this, profile);
    }
  }

  /**
   * A monitor for a rollout: the profile stored with its baseline (or the nearest ancestor that has
   * one), the candidate's calibrated ranges counted on the baseline (its FP32 model), the rollout's
   * policy.
   *
   * @throws InvalidInputException when neither the baseline nor its ancestors have a profile
   */
  public static DriftMonitor forRollout(
      Registry registry, RolloutController rollout, DriftSettings settings) {
    ArtifactRef baseline = ArtifactRef.of(rollout.baseline().name(), rollout.baseline().version());
    ArtifactRef cand = ArtifactRef.of(rollout.candidate().name(), rollout.candidate().version());
    ReferenceProfile profile = storedProfile(registry, baseline);
    Builder b =
        builder(rollout.baseline().name(), profile)
            .reference(rollout.baseline())
            .candidate(rollout.candidate())
            .settings(settings)
            .policy(rollout.policy())
            .keepIn(registry);
    CalibrationRanges ranges =
        CalibrationRanges.of(ModelIO.load(registry.modelBytes(cand), cand.toString()));
    return withOverflow(registry, b, baseline, ranges);
  }

  /**
   * A monitor for a served version without a rollout: its profile (or its nearest ancestor's), and
   * when it is a static QDQ model with a registered FP32 parent, its own ranges counted on the
   * parent.
   */
  public static DriftMonitor forModel(Registry registry, ArtifactRef served, DriftSettings s) {
    ArtifactVersion v = registry.version(served);
    ReferenceProfile profile = storedProfile(registry, v.ref());
    Builder b = builder(v.model(), profile).settings(s).keepIn(registry);
    if (v.parent() == null) {
      return b.build();
    }
    CalibrationRanges ranges =
        CalibrationRanges.of(ModelIO.load(registry.modelBytes(v.ref()), v.ref().toString()));
    return withOverflow(registry, b, v.parent(), ranges);
  }

  private static DriftMonitor withOverflow(
      Registry registry, Builder b, ArtifactRef fp32, CalibrationRanges ranges) {
    if (ranges.ranges().isEmpty()) {
      return b.build();
    }
    Path dir = null;
    try {
      dir = Files.createTempDirectory("quantguard-drift");
      Path file = dir.resolve("fp32.onnx");
      registry.export(fp32, file);
      return b.overflow(file, ranges).build(); // the session holds the model; the file can go
    } catch (IOException e) {
      throw new UncheckedIOException("cannot stage " + fp32 + " for the overflow probe", e);
    } finally {
      ModelLoader.deleteQuietly(dir);
    }
  }

  /** The profile stored with {@code ref}, else with its nearest ancestor. */
  static ReferenceProfile storedProfile(Registry registry, ArtifactRef ref) {
    ArtifactRef at = ref;
    List<String> tried = new ArrayList<>();
    while (at != null) {
      ArtifactVersion v = registry.version(at);
      tried.add(v.ref().toString());
      Optional<String> json = registry.profile(v.ref());
      if (json.isPresent()) {
        return ReferenceProfile.parse(json.get(), "the drift profile of " + v.ref());
      }
      at = v.parent();
    }
    throw new InvalidInputException(
        ref.toString(),
        "has no drift profile in the registry (looked at " + String.join(", ", tried) + ")",
        "store one with the FP32 version: quantguard registry profile "
            + tried.get(tried.size() - 1)
            + " --data DATASPEC");
  }

  // ---------------------------------------------------------------- observation

  @Override
  public void observe(Exchange exchange) {
    if (!exchange.primary().key().name().equals(model)) {
      return;
    }
    long n = offered.getAndIncrement();
    if (!takes(n, settings.sampleShare())) {
      finished.incrementAndGet();
      return;
    }
    long k = sampled.getAndIncrement();
    boolean overflow = probe != null && takes(k, settings.overflowShare());
    try {
      worker.execute(() -> add(exchange, overflow, k));
    } catch (RejectedExecutionException full) {
      dropped.incrementAndGet();
      finished.incrementAndGet();
      if (droppedCounter != null) {
        droppedCounter.increment();
      }
    }
  }

  /** Item n of a stream is taken when ⌊(n + 1)·s⌋ &gt; ⌊n·s⌋: exactly a share s. */
  private static boolean takes(long n, double share) {
    return Math.floor((n + 1) * share) > Math.floor(n * share);
  }

  private void add(Exchange e, boolean overflow, long k) {
    try {
      Map<String, Tensor> outputs = outputsOf(e);
      @Nullable OverflowMeter m;
      DriftWindow w;
      @Nullable LiveWindow q;
      synchronized (lock) {
        w = window;
        m = meter;
        q = quality;
        w.add(e.inputs(), outputs);
      }
      if (q != null) {
        q.add(e);
      }
      if (overflow && probe != null && m != null) {
        var counts = probe.count(e.inputs());
        List<OverflowMeter.Sample> ids = new ArrayList<>();
        String id = e.requestId() != null ? e.requestId() : "request#" + k;
        for (int i = 0; i < counts.samples(); i++) {
          ids.add(new OverflowMeter.Sample(counts.samples() == 1 ? id : id + "#" + i, null));
        }
        synchronized (lock) {
          if (m == meter) { // a window closed meanwhile: the sample belongs to no open window
            m.add(counts, ids);
          }
        }
        probed.incrementAndGet();
      }
    } catch (RuntimeException ex) {
      LOG.warn("drift monitoring of {} could not use a sample", model, ex);
    } finally {
      finished.incrementAndGet();
    }
  }

  /** The outputs of the version the profile describes, else the client's; empty on failure. */
  private Map<String, Tensor> outputsOf(Exchange e) {
    Outcome o = e.primary();
    if (reference != null && !o.key().equals(reference)) {
      o = e.shadow() != null && e.shadow().key().equals(reference) ? e.shadow() : null;
    }
    return o instanceof Outcome.Success s ? s.outputs() : Map.of();
  }

  // ---------------------------------------------------------------- intervals

  /**
   * Closes the open window (what the schedule does every interval): compares it with the reference,
   * keeps it in the history (the attribution is ranked from it when asked). Samples still queued go
   * to the next window.
   *
   * @return the closed window's summary, as the endpoint shows it
   */
  public Map<String, Object> analyze() {
    DriftWindow w;
    OverflowMeter m;
    LiveWindow q;
    Instant from;
    Instant to = Instant.now();
    synchronized (lock) {
      w = window;
      m = meter;
      q = quality;
      from = openedAt;
      window = profile.newWindow();
      meter = newMeter();
      quality = newQuality();
      openedAt = to;
    }
    Closed c =
        new Closed(
            from,
            to,
            w.result(settings.tests()),
            m == null ? null : m.result("all"),
            q == null ? null : figure(q, "cosine_mean"),
            q == null ? null : figure(q, "flip_rate"),
            q == null ? 0 : q.paired(),
            q == null || q.paired() == 0 ? Map.of() : q.tail());
    synchronized (history) {
      history.addLast(c);
      while (history.size() > settings.history()) {
        history.removeFirst();
      }
    }
    last = c;
    if (kept != null) {
      kept.keep(c);
    }
    return windowJson(c);
  }

  private static @Nullable Double figure(LiveWindow q, String metric) {
    return q.find(q.candidates().get(0), "all", metric).map(Measure::value).orElse(null);
  }

  /**
   * Attributes the fall of the paired cosine's 5th percentile ({@link #ATTRIBUTION_QUALITY}) over
   * the closed windows to every feature's drift magnitude and every tensor's overflow rate.
   */
  private QualityAttribution attribute(List<Closed> windows) {
    Map<String, double[]> series = new LinkedHashMap<>();
    Set<String> driftedLatest = new HashSet<>();
    for (int i = 0; i < windows.size(); i++) {
      Closed c = windows.get(i);
      for (DriftResult.FeatureDrift f : c.drift().features()) {
        series.computeIfAbsent(f.feature(), k -> nans(windows.size()))[i] = f.magnitude();
        if (i == windows.size() - 1 && f.drifted()) {
          driftedLatest.add(f.feature());
        }
      }
      if (c.overflow() != null) {
        for (CalibrationCoverage.TensorOverflow t : c.overflow().tensors()) {
          series.computeIfAbsent("overflow:" + t.tensor(), k -> nans(windows.size()))[i] =
              t.values() == 0 ? Double.NaN : t.rate();
        }
      }
    }
    return new QualityAttribution(
        ATTRIBUTION_QUALITY, qualitySeries(windows), series, driftedLatest, this::kind);
  }

  private static double[] qualitySeries(List<Closed> windows) {
    return windows.stream().mapToDouble(c -> c.quality(ATTRIBUTION_QUALITY)).toArray();
  }

  private static double[] nans(int n) {
    double[] a = new double[n];
    java.util.Arrays.fill(a, Double.NaN);
    return a;
  }

  private @Nullable OverflowMeter newMeter() {
    return probe == null ? null : new OverflowMeter(probe.ranges(), WORST_SAMPLES);
  }

  private @Nullable LiveWindow newQuality() {
    return candidate == null || reference == null ? null : new LiveWindow(candidate, reference);
  }

  /**
   * What a rollout's policy judges: the latest closed window's drifted share, largest PSI and
   * overflow rate; empty before the first window closed with samples.
   */
  public Optional<DriftFigures> figures() {
    Closed c = last;
    if (c == null || c.drift().samples() == 0) {
      return Optional.empty();
    }
    return Optional.of(
        new DriftFigures(
            c.drift().samples(),
            c.drift().driftedShare(),
            c.psiMax(),
            c.overflowRate(),
            c.overflow() == null ? 0 : c.overflow().samples()));
  }

  /** Closes a window every interval on a daemon thread until {@link #close}. */
  synchronized void start() {
    if (clock != null) {
      return;
    }
    clock =
        DaemonClock.every(
            "quantguard-drift-clock",
            settings.interval(),
            () -> {
              try {
                analyze();
              } catch (RuntimeException e) {
                LOG.warn("the drift analysis of {} failed; it runs again next interval", model, e);
              }
            });
  }

  /**
   * Waits until every request offered so far has been handled (added, passed over or dropped), for
   * tests that close windows by hand; false when {@code timeoutMs} passed first.
   */
  boolean settle(long timeoutMs) throws InterruptedException {
    long deadline = System.nanoTime() + timeoutMs * 1_000_000;
    while (finished.get() < offered.get()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(5);
    }
    return true;
  }

  public String model() {
    return model;
  }

  /** Requests of this model the monitor saw, sampled, ran through the probe, and dropped. */
  public Map<String, Long> counts() {
    Map<String, Long> m = new LinkedHashMap<>();
    m.put("offered", offered.get());
    m.put("sampled", sampled.get());
    m.put("probed", probed.get());
    m.put("dropped", dropped.get());
    return m;
  }

  // ---------------------------------------------------------------- metrics and JSON

  /**
   * Adds the monitor's meters: per profile feature {@code quantguard_drift_psi} and {@code
   * quantguard_drift_drifted} (1 when its deciding test says drift), {@code quantguard_drift_share}
   * and {@code quantguard_drift_window_samples}, {@code quantguard_overflow_rate} in all and per
   * calibrated tensor ({@code quantguard_overflow_tensor_rate}, the first {@code maxTensorGauges}
   * tensors), and {@code quantguard_drift_samples_dropped_total}. All of the latest closed window;
   * NaN before the first. The label sets come from the profile and the model's graph, never from
   * traffic.
   */
  void bindMetrics(MeterRegistry registry) {
    for (Feature f : profile.features()) {
      Gauge.builder("quantguard.drift.psi", this, d -> d.featureValue(f.name(), true))
          .tags("model", model, "feature", f.name())
          .description("PSI of the feature in the latest closed drift window")
          .register(registry);
      Gauge.builder("quantguard.drift.drifted", this, d -> d.featureValue(f.name(), false))
          .tags("model", model, "feature", f.name())
          .description("1 when the feature drifted by its deciding test in the latest window")
          .register(registry);
    }
    Gauge.builder("quantguard.drift.share", this, d -> d.closedValue(c -> c.drift().driftedShare()))
        .tags("model", model)
        .description("share of profile features that drifted in the latest closed window")
        .register(registry);
    Gauge.builder(
            "quantguard.drift.window.samples", this, d -> d.closedValue(c -> c.drift().samples()))
        .tags("model", model)
        .description("samples in the latest closed drift window")
        .register(registry);
    if (candidate != null && reference != null) {
      List<String> quality = new ArrayList<>(List.of("cosine_mean"));
      quality.addAll(LiveWindow.TAIL);
      for (String metric : quality) {
        Gauge.builder("quantguard.drift.quality", this, d -> d.closedValue(c -> c.quality(metric)))
            .tags("model", model, "metric", metric)
            .description("the candidate's paired quality against the reference, latest window")
            .register(registry);
      }
    }
    droppedCounter =
        Counter.builder("quantguard.drift.samples.dropped")
            .tags("model", model)
            .description("sampled requests not monitored because the drift worker was behind")
            .register(registry);
    droppedCounter.increment(dropped.get());
    if (probe == null) {
      return;
    }
    Gauge.builder("quantguard.overflow.rate", this, d -> d.closedValue(Closed::overflowRate))
        .tags("model", model)
        .description("share of FP32 activations outside the calibrated ranges, latest window")
        .register(registry);
    probe.ranges().ranges().stream()
        .limit(settings.maxTensorGauges())
        .forEach(
            r ->
                Gauge.builder(
                        "quantguard.overflow.tensor.rate", this, d -> d.tensorRate(r.tensor()))
                    .tags("model", model, "tensor", r.tensor())
                    .description("share of the tensor's FP32 values the quantized model clips")
                    .register(registry));
  }

  private double closedValue(java.util.function.ToDoubleFunction<Closed> f) {
    Closed c = last;
    return c == null ? Double.NaN : f.applyAsDouble(c);
  }

  private double featureValue(String feature, boolean psi) {
    Closed c = last;
    if (c == null) {
      return Double.NaN;
    }
    return c.drift()
        .feature(feature)
        .filter(f -> f.samples() > 0)
        .map(f -> psi ? (f.psi() == null ? Double.NaN : f.psi()) : (f.drifted() ? 1.0 : 0.0))
        .orElse(Double.NaN);
  }

  private double tensorRate(String tensor) {
    Closed c = last;
    if (c == null || c.overflow() == null) {
      return Double.NaN;
    }
    return c.overflow().tensors().stream()
        .filter(t -> t.tensor().equals(tensor) && t.values() > 0)
        .mapToDouble(CalibrationCoverage.TensorOverflow::rate)
        .findFirst()
        .orElse(Double.NaN);
  }

  /** What {@code GET /v2/models/NAME/drift} answers. */
  public Map<String, Object> status() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("model", model);
    m.put(
        "reference",
        Map.of("model", profile.model(), "data", profile.data(), "samples", profile.samples()));
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("sample_share", settings.sampleShare());
    s.put("overflow_share", probe == null ? 0 : settings.overflowShare());
    s.put("interval_ms", settings.interval().toMillis());
    s.put("history", settings.history());
    m.put("settings", s);
    m.put("counts", counts());
    m.put("thresholds", thresholds());
    Closed c = last;
    m.put("window", c == null ? null : windowJson(c));
    List<Closed> h;
    synchronized (history) {
      h = List.copyOf(history);
    }
    List<Map<String, Object>> series = new ArrayList<>();
    for (Closed x : h) {
      Map<String, Object> w = new LinkedHashMap<>();
      w.put("to", x.to().toString());
      w.put("samples", x.drift().samples());
      w.put("drift_share", x.drift().driftedShare());
      w.put("psi", finite(x.psiMax()));
      w.put("overflow_rate", finite(x.overflowRate()));
      w.put("cosine_mean", x.cosine());
      w.put("cosine_p5", x.tail().get("cosine_p5"));
      w.put("cosine_below_0_98", x.tail().get("cosine_below_0_98"));
      series.add(w);
    }
    m.put("history", series);
    Map<String, Object> a =
        candidate == null
            ? new LinkedHashMap<>(
                Map.of(
                    "quality",
                    ATTRIBUTION_QUALITY,
                    "windows",
                    h.size(),
                    "ranked",
                    List.of(),
                    "note",
                    "no candidate runs beside the reference: no paired quality to attribute"))
            : attribute(h).report();
    m.put("attribution", a);
    return m;
  }

  /** What a drift series measures: a model input, a model output, or a calibrated tensor. */
  private QualityAttribution.Kind kind(String series) {
    if (series.startsWith("overflow:")) {
      return QualityAttribution.Kind.TENSOR;
    }
    String tensor = profile.feature(series).map(Feature::tensor).orElse("");
    return profile.inputs().stream().anyMatch(i -> i.name().equals(tensor))
        ? QualityAttribution.Kind.INPUT
        : QualityAttribution.Kind.OUTPUT;
  }

  private Map<String, Object> thresholds() {
    Map<String, Object> t = new LinkedHashMap<>();
    t.put("p_value", settings.tests().pValue());
    t.put("distance", settings.tests().distance());
    t.put("psi", settings.tests().psi());
    List<Map<String, Object>> rules = new ArrayList<>();
    if (policy != null) {
      for (Rule r : policy.rules()) {
        if (METRICS.contains(r.metric())) {
          rules.add(
              Map.of(
                  "metric", r.metric(),
                  "limit", r.limit().key(),
                  "threshold", r.limit().threshold(),
                  "rule", r.describe()));
        }
      }
      t.put("policy", policy.name());
    }
    t.put("rules", rules);
    return t;
  }

  private static Map<String, Object> windowJson(Closed c) {
    Map<String, Object> w = new LinkedHashMap<>();
    w.put("from", c.from().toString());
    w.put("to", c.to().toString());
    w.put("samples", c.drift().samples());
    w.put("drift_share", c.drift().driftedShare());
    w.put("psi", finite(c.psiMax()));
    List<Map<String, Object>> features = new ArrayList<>();
    for (DriftResult.FeatureDrift f : c.drift().features()) {
      Map<String, Object> x = new LinkedHashMap<>();
      x.put("feature", f.feature());
      x.put("samples", f.samples());
      x.put("method", f.method().name().toLowerCase(java.util.Locale.ROOT));
      x.put("score", f.score());
      x.put("threshold", f.threshold());
      x.put("drifted", f.drifted());
      x.put("psi", f.psi());
      x.put("ks_p", f.ksPValue());
      x.put("chi_square_p", f.chiSquarePValue());
      x.put("wasserstein", f.wasserstein());
      x.put("jensen_shannon", f.jensenShannon());
      x.put("reference_mean", f.referenceMean());
      x.put("window_mean", f.windowMean());
      features.add(x);
    }
    w.put("features", features);
    if (c.overflow() != null) {
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("samples", c.overflow().samples());
      o.put("values", c.overflow().values());
      o.put("rate", finite(c.overflowRate()));
      o.put(
          "tensors",
          c.overflow().tensors().stream()
              .limit(TOP_TENSORS)
              .map(
                  t ->
                      Map.<String, Object>of(
                          "tensor", t.tensor(),
                          "rate", t.rate(),
                          "values", t.values(),
                          "low", t.low(),
                          "high", t.high()))
              .toList());
      o.put(
          "worst_samples",
          c.overflow().worstSamples().stream()
              .map(
                  x ->
                      Map.<String, Object>of(
                          "sample", x.sample(), "rate", x.rate(), "tensor", x.worstTensor()))
              .toList());
      w.put("overflow", o);
    }
    if (c.cosine() != null || c.paired() > 0) {
      Map<String, Object> q = new LinkedHashMap<>();
      q.put("paired", c.paired());
      q.put("cosine_mean", c.cosine());
      q.put("flip_rate", c.flipRate());
      q.putAll(c.tail());
      w.put("quality", q);
    }
    return w;
  }

  private static @Nullable Double finite(double x) {
    return Double.isFinite(x) ? x : null;
  }

  /** Stops the clock and the worker (queued samples are dropped) and closes the probe. */
  @Override
  public void close() {
    ScheduledExecutorService c;
    synchronized (this) {
      c = clock;
      clock = null;
    }
    if (c != null) {
      c.shutdownNow();
    }
    worker.shutdownNow();
    try {
      worker.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (probe != null) {
      probe.close();
    }
  }
}

package io.quantguard.serve;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.registry.Registry;
import io.quantguard.runtime.Tensor;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Latency-aware variant choice: keeps one model within its {@link LatencyObjective} by answering
 * requests that name no version with a faster variant (a static or dynamic int8 version, say) while
 * the load makes the preferred one too slow, and with the preferred one again once the load falls.
 *
 * <p><b>Which variants, in which order.</b> The model's default version (its first source) is home.
 * Every other served version of the model is a variant unless the quality policy refuses it ({@link
 * VariantQuality}: a failed audit, or the production policy failing on its registered report).
 * "Faster" is measured, not assumed: before the server turns ready (and again after a reload of the
 * model, then beside live traffic) every variant runs the same all-zero batch (the largest dynamic
 * batch, the size that load produces; one row when the model does not batch) in 25 interleaved
 * rounds; a variant is faster than home when the median of its per-round time ratio to home is
 * below 1 (a ratio within one round is immune to the machine's load drifting between rounds), and
 * that median ratio ranks the faster ones and scales the latency predicted for switching back. The
 * ladder is home, then each allowed variant measured faster than home, slowest first; a variant
 * measured no faster than home is left out, with the measurement as the reason.
 *
 * <p><b>When to switch.</b> Every window the percentile of the objective is taken over the requests
 * the active variant answered (a 429 counts as one past the objective). Hysteresis keeps it from
 * flapping:
 *
 * <pre>
 *  percentile &gt; objective, a faster variant exists     -&gt; breach; {@code patience} breaches in a row
 *                                                       move to the next faster variant, and the
 *                                                       request rate then is the slower one's limit
 *  a quiet window, or both: request rate &lt;= exit share
 *    x the slower variant's limit, and percentile x
 *    (probe of the slower / probe of active)
 *    &lt;= exit share x objective                       -&gt; calm; {@code patience} calm windows in a
 *                                                       row move back to the next slower variant
 *  no switch within {@code dwell} of the last one
 * </pre>
 *
 * The exit thresholds lie below the entry ones: the load must fall well below the rate at which the
 * slower variant broke the objective. The rate condition is the one that holds under queueing: a
 * latency prediction from the probe ratio alone underestimates how a slower variant's queue grows
 * (measured: int8 at p95 40 ms under 64 clients predicted FP32 at 47 ms, which had measured 115 ms
 * under the same load moments before). Every switch is logged, counted ({@code
 * quantguard_variant_switches_total}) and, when the variants come from a registry, written to its
 * change log as a {@code variant} entry.
 */
public final class VariantSelector implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(VariantSelector.class);
  private static final int PROBE_WARMUP = 3;
  private static final int PROBE_ROUNDS = 25;
  private static final int HISTORY = 50;

  /**
   * One rung of the ladder: a served version, its median probe run in milliseconds, and the median
   * of its per-round run time over home's (1 for home; below 1 for a faster variant).
   */
  public record Variant(ModelKey key, double probeMillis, double relative) {}

  /** One switch, as logged. */
  public record Switch(
      Instant at,
      int from,
      int to,
      String direction,
      double percentileMillis,
      long samples,
      String reason) {}

  private final String model;
  private final AdaptiveSettings settings;
  private final String actor;
  private final Recorder recorder = new Recorder(3);
  private final Deque<Switch> history = new ArrayDeque<>();
  private List<Variant> ladder = List.of();
  private Map<Integer, String> refused = Map.of();
  private @Nullable Registry registry;
  private volatile @Nullable ModelKey active;
  private @Nullable Histogram recycled;
  private int breaches;
  private int calm;
  private long lastSwitchNanos;
  private double windowMillis = Double.NaN;
  private long windowSamples;
  private long switches;
  private double[] breakingRate = new double[0];
  private @Nullable MeterRegistry metrics;
  private @Nullable ScheduledExecutorService clock;
  private @Nullable Instant probedAt;
  private int probes;

  /**
   * @param model the model whose requests that name no version it routes
   * @param actor who the registry's change log names for the switches
   */
  public VariantSelector(String model, AdaptiveSettings settings, String actor) {
    new ModelKey(model, 1);
    this.model = model;
    this.settings = settings;
    this.actor = actor;
  }

  public String model() {
    return model;
  }

  public AdaptiveSettings settings() {
    return settings;
  }

  // ---------------------------------------------------------------- start: quality, probe, ladder

  /**
   * Ranks the served variants (see the class documentation) and starts answering with home. Called
   * by the server once every version is open, before it turns ready.
   *
   * @param served the served versions of the model, home (the default version) first, with their
   *     sources and batchers
   */
  synchronized void start(List<InferenceServer.Served> served, MeterRegistry meters) {
    Ranking r = rank(served);
    begin(r.ladder(), r.refused(), registryOf(served), meters);
    startClock();
  }

  /**
   * Ranks the variants again after the server reopened the model's versions (a reload: a file
   * replaced, a registry stage resolved anew): the probe figures and quality refusals of the
   * versions that were replaced say nothing about the new ones. The active variant keeps answering
   * when it is still on the new ladder, else home does; the hysteresis starts afresh.
   */
  synchronized void reprobe(List<InferenceServer.Served> served) {
    Ranking r = rank(served);
    ModelKey was = active;
    this.ladder = List.copyOf(r.ladder());
    this.refused = Map.copyOf(r.refused());
    this.breakingRate = new double[ladder.size()];
    this.registry = registryOf(served);
    this.breaches = 0;
    this.calm = 0;
    this.active = indexOf(was) >= 0 ? was : ladder.get(0).key();
    this.probedAt = Instant.now();
    this.probes++;
    LOG.info("adaptive {}: probed again after a reload: ladder {}", model, describe(ladder));
    if (metrics != null) {
      bindMetrics(metrics);
    }
  }

  private static @Nullable Registry registryOf(List<InferenceServer.Served> served) {
    return served.stream().allMatch(s -> s.source() instanceof ModelSource.Registered)
        ? ((ModelSource.Registered) served.get(0).source()).registry()
        : null;
  }

  /** The ladder and the variants never chosen, with the reason. */
  private record Ranking(List<Variant> ladder, Map<Integer, String> refused) {}

  /** Checks quality, probes and orders the variants (see the class documentation). */
  private Ranking rank(List<InferenceServer.Served> served) {
    if (served.size() < 2) {
      throw InvalidInputException.forParameter(
          "adaptive.model",
          model,
          "has " + served.size() + " version served, so there is no faster variant to switch to",
          "serve the model's faster variants too (its int8 versions)");
    }
    Map<Integer, String> no = new LinkedHashMap<>();
    List<InferenceServer.Served> allowed = new ArrayList<>();
    allowed.add(served.get(0));
    ModelSignature home = served.get(0).batcher().signature();
    for (InferenceServer.Served s : served.subList(1, served.size())) {
      Optional<String> refusal =
          interchangeable(home, s.batcher().signature())
              ? VariantQuality.refusal(s.source())
              : Optional.of(
                  s.key()
                      + " takes or gives other tensors than "
                      + served.get(0).key()
                      + ", so it cannot answer the same requests");
      if (refusal.isPresent()) {
        no.put(s.key().version(), refusal.get());
        LOG.warn("variant {} is never chosen: {}", s.key(), refusal.get());
      } else {
        allowed.add(s);
      }
    }
    double[][] runs = probe(allowed);
    double[] probe = new double[runs.length];
    for (int i = 0; i < runs.length; i++) {
      probe[i] = median(runs[i]);
    }
    List<Variant> faster = new ArrayList<>();
    for (int i = 1; i < allowed.size(); i++) {
      ModelKey k = allowed.get(i).key();
      double[] ratio = new double[PROBE_ROUNDS];
      for (int r = 0; r < PROBE_ROUNDS; r++) {
        ratio[r] = runs[i][r] / runs[0][r];
      }
      double relative = median(ratio);
      if (relative < 1) {
        faster.add(new Variant(k, probe[i], relative));
      } else {
        String why =
            String.format(
                Locale.ROOT,
                "measured no faster than %s (median %.3f ms against %.3f ms a probe batch)",
                served.get(0).key(),
                probe[i],
                probe[0]);
        no.put(k.version(), why);
        LOG.warn("variant {} is never chosen: {}", k, why);
      }
    }
    faster.sort(Comparator.comparingDouble(Variant::relative).reversed());
    List<Variant> l = new ArrayList<>();
    l.add(new Variant(served.get(0).key(), probe[0], 1));
    l.addAll(faster);
    return new Ranking(l, no);
  }

  /** Same inputs (names, types, shapes) and the same output names: one request fits both. */
  private static boolean interchangeable(ModelSignature home, ModelSignature variant) {
    return home.inputs().equals(variant.inputs())
        && java.util.Set.copyOf(home.outputNames())
            .equals(java.util.Set.copyOf(variant.outputNames()));
  }

  /**
   * Starts answering with home, the ladder's first rung, and binds the meters; the window clock is
   * not started (the server's {@link #start} does that, a test calls {@link #judge} itself).
   *
   * @param ladder home, then the faster variants, slowest first, with their probe times
   * @param refused the variants never chosen, by version, with the reason
   * @param registry where switches are recorded, or null
   */
  synchronized void begin(
      List<Variant> ladder,
      Map<Integer, String> refused,
      @Nullable Registry registry,
      MeterRegistry meters) {
    this.ladder = List.copyOf(ladder);
    this.breakingRate = new double[ladder.size()];
    this.refused = Map.copyOf(refused);
    this.active = ladder.get(0).key();
    this.registry = registry;
    this.lastSwitchNanos = System.nanoTime();
    this.probedAt = Instant.now();
    this.probes = 1;
    LOG.info(
        "adaptive {} with objective {}: ladder {}", model, settings.objective(), describe(ladder));
    bindMetrics(meters);
  }

  private static List<String> describe(List<Variant> ladder) {
    return ladder.stream()
        .map(
            v ->
                String.format(
                    Locale.ROOT, "%s (%.3f ms, x%.2f)", v.key(), v.probeMillis(), v.relative()))
        .toList();
  }

  /**
   * Run times in milliseconds of each version on the same batch, in interleaved rounds: a round
   * runs every version back to back, so that a variant is compared with home under the same
   * momentary load.
   */
  private static double[][] probe(List<InferenceServer.Served> versions) {
    double[][] runs = new double[versions.size()][PROBE_ROUNDS];
    List<Map<String, Tensor>> feeds = new ArrayList<>();
    for (InferenceServer.Served s : versions) {
      Batcher b = s.batcher();
      feeds.add(ModelLoader.zeros(b.signature(), b.batchable() ? b.policy().maxBatchSize() : 1));
    }
    for (int round = -PROBE_WARMUP; round < PROBE_ROUNDS; round++) {
      for (int i = 0; i < versions.size(); i++) {
        double ms = versions.get(i).batcher().probe(feeds.get(i)) / 1e6;
        if (round >= 0) {
          runs[i][round] = ms;
        }
      }
    }
    return runs;
  }

  private static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    return v[v.length / 2];
  }

  // ---------------------------------------------------------------- routing and measuring

  /** The variant that answers a request naming no version now. */
  Route route(String name, ModelCatalog catalog) {
    ModelKey k = active;
    if (k == null || !catalog.versions(name).contains(k)) {
      return Router.pinned().route(name, null, catalog);
    }
    return Route.to(k);
  }

  /** Takes the latency of one answered inference request of the model. */
  void record(ModelKey key, int status, long nanos) {
    if (!key.equals(active)) {
      return;
    }
    if (status == 429) {
      recorder.recordValue(Math.max(1, settings.objective().limit().toNanos() / 1000 * 10));
    } else if (status < 400) {
      recorder.recordValue(Math.max(1, nanos / 1000));
    }
  }

  /** Judges one window (what the clock does every {@code window}) and switches when due. */
  synchronized void judge() {
    Histogram h = recorder.getIntervalHistogram(recycled);
    recycled = h;
    ModelKey current = active;
    int at = indexOf(current);
    if (at < 0) {
      return;
    }
    windowSamples = h.getTotalCount();
    boolean quiet = windowSamples < settings.minSamples();
    windowMillis =
        quiet ? Double.NaN : h.getValueAtPercentile(settings.objective().percentile()) / 1e3;
    double limit = settings.objective().limitMillis();
    boolean canSpeedUp = at < ladder.size() - 1;
    double predicted =
        at > 0 ? windowMillis * ladder.get(at - 1).relative() / ladder.get(at).relative() : 0;
    double rate = windowSamples / (settings.window().toNanos() / 1e9);
    boolean loadFell =
        at > 0
            && rate <= settings.exitShare() * breakingRate[at - 1]
            && predicted <= settings.exitShare() * limit;
    if (!quiet && windowMillis > limit && canSpeedUp) {
      breaches++;
      calm = 0;
    } else if (at > 0 && (quiet || loadFell)) {
      calm++;
      breaches = 0;
    } else {
      breaches = 0;
      calm = 0;
    }
    boolean dwelt = System.nanoTime() - lastSwitchNanos >= settings.dwell().toNanos();
    if (!dwelt) {
      return;
    }
    if (breaches >= settings.patience()) {
      breakingRate[at] = rate;
      switchTo(
          at + 1,
          "faster",
          String.format(
              Locale.ROOT,
              "p%s %.2f ms over %d requests breaks the objective %s for %d window(s)",
              pct(),
              windowMillis,
              windowSamples,
              settings.objective(),
              breaches));
    } else if (calm >= settings.patience()) {
      switchTo(
          at - 1,
          "slower",
          quiet
              ? String.format(
                  Locale.ROOT,
                  "load fell: %d requests a window, fewer than %d, for %d window(s)",
                  windowSamples,
                  settings.minSamples(),
                  calm)
              : String.format(
                  Locale.ROOT,
                  "load fell: %.0f requests/s, within %.0f %% of the %.0f at which %s broke the"
                      + " objective %s, and p%s %.2f ms here predicts %.2f ms there, for %d"
                      + " window(s)",
                  rate,
                  settings.exitShare() * 100,
                  breakingRate[at - 1],
                  ladder.get(at - 1).key(),
                  settings.objective(),
                  pct(),
                  windowMillis,
                  predicted,
                  calm));
    }
  }

  private void switchTo(int index, String direction, String reason) {
    ModelKey from = ladder.get(indexOf(active)).key();
    ModelKey to = ladder.get(index).key();
    active = to;
    lastSwitchNanos = System.nanoTime();
    breaches = 0;
    calm = 0;
    recycled = recorder.getIntervalHistogram(recycled);
    switches++;
    Switch s =
        new Switch(
            Instant.now(),
            from.version(),
            to.version(),
            direction,
            windowMillis,
            windowSamples,
            reason);
    history.addLast(s);
    while (history.size() > HISTORY) {
      history.removeFirst();
    }
    LOG.info("adaptive {}: variant switch {} -> {} ({}): {}", model, from, to, direction, reason);
    if (metrics != null) {
      switchCounter(metrics, direction).increment();
    }
    if (registry != null) {
      Map<String, Object> details = new LinkedHashMap<>();
      details.put("direction", direction);
      details.put("objective", settings.objective().toString());
      details.put("percentile_ms", Double.isNaN(windowMillis) ? null : windowMillis);
      details.put("samples", windowSamples);
      details.put("probe_ms", probes());
      try {
        registry.recordVariantSwitch(
            io.quantguard.registry.ArtifactRef.of(model, to.version()),
            from.version(),
            reason,
            details,
            actor);
      } catch (RuntimeException e) {
        // The switch stands: answering within the objective matters more than its record.
        LOG.warn("the variant switch of {} could not be written to the registry", model, e);
      }
    }
  }

  private int indexOf(@Nullable ModelKey k) {
    for (int i = 0; i < ladder.size(); i++) {
      if (ladder.get(i).key().equals(k)) {
        return i;
      }
    }
    return -1;
  }

  private Map<String, Double> probes() {
    Map<String, Double> m = new LinkedHashMap<>();
    ladder.forEach(v -> m.put(Integer.toString(v.key().version()), v.probeMillis()));
    return m;
  }

  private String pct() {
    double p = settings.objective().percentile();
    return p == Math.rint(p) ? Long.toString((long) p) : Double.toString(p);
  }

  // ---------------------------------------------------------------- state

  /** The version answering requests that name no version. */
  public Optional<ModelKey> active() {
    return Optional.ofNullable(active);
  }

  /** Home first, then each faster variant, slowest first. */
  public synchronized List<Variant> ladder() {
    return ladder;
  }

  /** Variants never chosen, by version, with the reason. */
  public synchronized Map<Integer, String> refused() {
    return refused;
  }

  /** The switches so far (the last 50), oldest first. */
  public synchronized List<Switch> switches() {
    return List.copyOf(history);
  }

  /** Where the choice stands, for {@code GET /v2/models/NAME/variants} and the dashboard. */
  public synchronized Map<String, Object> status() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("model", model);
    m.put("objective", settings.objective().toString());
    m.put("active", active == null ? null : active.version());
    List<Map<String, Object>> rungs = new ArrayList<>();
    for (Variant v : ladder) {
      rungs.add(
          Map.of(
              "version", v.key().version(),
              "probe_ms", v.probeMillis(),
              "relative", v.relative()));
    }
    m.put("ladder", rungs);
    m.put("refused", refused);
    m.put("probed_at", probedAt == null ? null : probedAt.toString());
    m.put("probes", probes);
    m.put("window_percentile_ms", Double.isNaN(windowMillis) ? null : windowMillis);
    m.put("window_samples", windowSamples);
    m.put("switches", switches);
    List<Map<String, Object>> h = new ArrayList<>();
    for (Switch s : history) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("at", s.at().toString());
      e.put("from", s.from());
      e.put("to", s.to());
      e.put("direction", s.direction());
      e.put("percentile_ms", Double.isNaN(s.percentileMillis()) ? null : s.percentileMillis());
      e.put("samples", s.samples());
      e.put("reason", s.reason());
      h.add(e);
    }
    m.put("history", h);
    return m;
  }

  /**
   * {@code quantguard_variant_active} (1 for the variant answering), {@code _probe_seconds} per
   * variant (of the latest probe: NaN for a version no longer on the ladder), {@code
   * _objective_seconds}, {@code _window_latency_seconds} (the percentile of the last judged window)
   * and {@code _switches_total} by direction ({@code faster}, {@code slower}; which versions is in
   * the log, the registry and {@link #status()}).
   */
  private void bindMetrics(MeterRegistry meters) {
    this.metrics = meters;
    for (Variant v : ladder) {
      String version = Integer.toString(v.key().version());
      Gauge.builder("quantguard.variant.active", this, s -> v.key().equals(s.active) ? 1 : 0)
          .tags("model", model, "version", version)
          .description("1 for the variant answering requests that name no version")
          .register(meters);
      Gauge.builder("quantguard.variant.probe", this, s -> s.probeSeconds(v.key()))
          .tags("model", model, "version", version)
          .baseUnit("seconds")
          .description("median run of the variant on the probe batch, at start or reload")
          .register(meters);
    }
    Gauge.builder("quantguard.variant.objective", settings, s -> s.objective().limitMillis() / 1e3)
        .tags("model", model)
        .baseUnit("seconds")
        .description("the latency objective's limit")
        .register(meters);
    Gauge.builder("quantguard.variant.window.latency", this, s -> s.judgedMillis() / 1e3)
        .tags("model", model)
        .baseUnit("seconds")
        .description("the objective's percentile over the last judged window (NaN when quiet)")
        .register(meters);
    // At zero from the start, so that increase() sees the first switch.
    switchCounter(meters, "faster");
    switchCounter(meters, "slower");
  }

  private Counter switchCounter(MeterRegistry meters, String direction) {
    return Counter.builder("quantguard.variant.switches")
        .description("variant switches to keep the latency objective, by direction")
        .tags("model", model, "direction", direction)
        .register(meters);
  }

  private synchronized double probeSeconds(ModelKey key) {
    int i = indexOf(key);
    return i < 0 ? Double.NaN : ladder.get(i).probeMillis() / 1e3;
  }

  private synchronized double judgedMillis() {
    return windowMillis;
  }

  private void startClock() {
    if (clock != null) {
      return;
    }
    clock =
        DaemonClock.every(
            "quantguard-variants-" + model,
            settings.window(),
            () -> {
              try {
                judge();
              } catch (RuntimeException e) {
                LOG.warn("the variant choice of {} failed; it runs again next window", model, e);
              }
            });
  }

  /** Stops the window clock; the active variant keeps answering. */
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
  }
}

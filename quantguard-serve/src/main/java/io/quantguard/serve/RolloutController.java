package io.quantguard.serve;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.ChangeLogEntry;
import io.quantguard.registry.Registry;
import io.quantguard.registry.RolloutChange;
import io.quantguard.registry.RolloutRecord;
import io.quantguard.report.Judgement;
import io.quantguard.report.Policy;
import io.quantguard.report.RuleVerdict;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rolls a candidate version out against the production version, judged live by a policy: the {@link
 * Router} that splits traffic and the {@link ExchangeObserver} that fills the {@link LiveWindow}.
 * At each analysis interval the rollout's {@code Policy} (the same code as {@code gate}) judges the
 * window:
 *
 * <pre>
 *  paired samples &lt; min samples  -&gt; inconclusive: neither pass nor fail; the window keeps collecting
 *  policy holds                  -&gt; step up (canary 5 -&gt; 25 -&gt; 50 -&gt; 100 %), or promote at the last step
 *                                   (shadow: at once)
 *  policy fails                  -&gt; failed intervals + 1; hold, or roll back once they reach the
 *                                   rollout's max failed intervals
 * </pre>
 *
 * <p>Per slice: requests tagged with a slice ({@link TrafficSlices}: the request parameter {@code
 * slice} or the {@value TrafficSlices#HEADER} header; the first {@value
 * TrafficSlices#DEFAULT_LIMIT} names, later ones fold into {@code other}) are also compared per
 * slice, and every slice is judged by the same policy code as the whole window (its rules on drift
 * aside: drift is measured over all traffic). A slice with fewer paired samples than the rollout's
 * minimum is inconclusive: it neither passes nor fails. The interval passes when the whole window
 * and every conclusive slice pass, so one bad slice holds and rolls back the candidate even when
 * the mean passes; the reason names the slice.
 *
 * <p>Canary: a deterministic share of the requests that name no version is answered by the
 * candidate, and the baseline runs them as a shadow so that each is a paired sample. Shadow: every
 * such request is answered by the baseline and also run on the candidate, off the request's
 * critical path. Requests naming a version are served by that version, unobserved by the rollout.
 *
 * <p>Every state change is one registry transaction (the rollout row and its change-log entry, with
 * the measured reason), so a restarted server {@link #resume resumes} at the same step.
 */
public final class RolloutController implements Router, ExchangeObserver, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RolloutController.class);

  private final Registry registry;
  private final String actor;
  private final Policy policy;
  private final RolloutSettings settings;
  private final ModelKey candidate;
  private final ModelKey baseline;
  private final Policy slicePolicy;
  private final TrafficSlices slices = new TrafficSlices(TrafficSlices.DEFAULT_LIMIT);
  private final Map<String, SliceFigures> judgedSlices = new LinkedHashMap<>();
  private RolloutRecord record;
  private LiveWindow window;
  private RolloutDecision last;
  private long routed;
  private long seen;
  private @Nullable ScheduledExecutorService analysis;
  private @Nullable MeterRegistry metrics;
  private double judgedFlipRate = Double.NaN;
  private double judgedCosine = Double.NaN;
  private @Nullable DriftMonitor drift;

  private RolloutController(Registry registry, RolloutRecord record, String actor) {
    this.registry = registry;
    this.actor = actor;
    this.record = record;
    this.policy = Policy.parse(record.policyText(), "the policy of rollout " + record.id());
    this.settings = RolloutSettings.fromJson(record.settings(), "rollout " + record.id());
    this.candidate = new ModelKey(record.model(), record.candidate());
    this.baseline = new ModelKey(record.model(), record.baseline());
    this.slicePolicy =
        new Policy(
            policy.name(),
            policy.source(),
            policy.rules().stream()
                .filter(r -> !DriftMonitor.METRICS.contains(r.metric()))
                .toList());
    this.window = new LiveWindow(candidate, baseline, slices);
    this.last =
        new RolloutDecision(
            "none",
            record.status(),
            record.step(),
            share(record),
            record.failedIntervals(),
            "resumed",
            Map.of());
  }

  /**
   * Starts a rollout of {@code candidate} against the model's production version and records it.
   * The policy is checked against the live window's metrics first, so a rule the window cannot
   * answer is refused before anything is written.
   *
   * @param policyText the policy's YAML; {@code policySource} names it in errors
   */
  public static RolloutController start(
      Registry registry,
      ArtifactRef candidate,
      RolloutSettings settings,
      String policyText,
      String policySource,
      String reason,
      String actor) {
    check(Policy.parse(policyText, policySource), candidate);
    RolloutRecord r =
        registry.startRollout(
            candidate,
            settings.mode().id(),
            settings.toJson(),
            policyText,
            policySource,
            reason,
            actor);
    return new RolloutController(registry, r, actor);
  }

  /** The rollout of {@code model} under way in the registry, if any, where it stands. */
  public static Optional<RolloutController> resume(Registry registry, String model, String actor) {
    return registry.activeRollout(model).map(r -> new RolloutController(registry, r, actor));
  }

  /** Judges the policy on an empty window: unknown metrics and impossible limits throw here. */
  private static void check(Policy policy, ArtifactRef candidate) {
    ModelKey k = new ModelKey(candidate.model(), 1);
    try {
      policy.judge(new LiveWindow(k, k));
    } catch (InvalidInputException e) {
      throw InvalidInputException.forParameter(
          "rollout.policy",
          policy.source(),
          e.problem(),
          "write its rules on the live metrics: " + String.join(", ", LiveWindow.METRICS));
    }
  }

  // ---------------------------------------------------------------- routing and observation

  @Override
  public Route route(String model, @Nullable Integer version, ModelCatalog catalog) {
    if (version != null || !model.equals(candidate.name())) {
      return Router.pinned().route(model, version, catalog);
    }
    RolloutRecord r;
    long n;
    synchronized (this) {
      r = record;
      n = routed++;
    }
    return switch (r.status()) {
      case PROMOTED -> Route.to(candidate);
      case ROLLED_BACK -> Route.to(baseline);
      case RUNNING, PAUSED -> {
        if (settings.mode() == RolloutSettings.Mode.SHADOW) {
          yield new Route(baseline, candidate);
        }
        double share = settings.share(r.step());
        // Request n goes to the candidate when floor((n + 1) s) > floor(n s): exactly a share s.
        boolean toCandidate = Math.floor((n + 1) * share) > Math.floor(n * share);
        yield toCandidate ? new Route(candidate, baseline) : Route.to(baseline);
      }
    };
  }

  @Override
  public synchronized void observe(Exchange exchange) {
    if (record.status() == RolloutRecord.Status.RUNNING) {
      window.add(exchange);
    }
    if (exchange.primary().key().equals(candidate)
        || (exchange.shadow() != null && exchange.shadow().key().equals(candidate))) {
      seen++;
    }
  }

  // ---------------------------------------------------------------- decisions

  /**
   * Judges the live window once (what the analysis schedule does every interval) and acts on the
   * outcome; does nothing unless the rollout is running.
   */
  public synchronized RolloutDecision analyze() {
    if (record.status() != RolloutRecord.Status.RUNNING) {
      return last =
          new RolloutDecision(
              "none",
              record.status(),
              record.step(),
              share(record),
              record.failedIntervals(),
              "the rollout is " + record.status().id(),
              Map.of());
    }
    Map<String, Object> measured = window.summary();
    long paired = window.paired();
    if (paired < settings.minSamples()) {
      count("inconclusive");
      return last =
          new RolloutDecision(
              "inconclusive",
              record.status(),
              record.step(),
              share(record),
              record.failedIntervals(),
              String.format(
                  Locale.ROOT,
                  "inconclusive: %d paired samples, fewer than the %d the rollout needs; neither"
                      + " pass nor fail, the window keeps collecting",
                  paired,
                  settings.minSamples()),
              measured);
    }
    if (policy.rules().stream().anyMatch(r -> DriftMonitor.METRICS.contains(r.metric()))) {
      Optional<DriftFigures> figures = drift == null ? Optional.empty() : drift.figures();
      if (figures.isEmpty()) {
        count("inconclusive");
        return last =
            new RolloutDecision(
                "inconclusive",
                record.status(),
                record.step(),
                share(record),
                record.failedIntervals(),
                drift == null
                    ? "inconclusive: the policy has rules on "
                        + String.join(", ", DriftMonitor.METRICS)
                        + " but the server does not watch "
                        + candidate.name()
                        + " for drift"
                    : "inconclusive: no drift window with samples has closed yet",
                measured);
      }
      window.drift(figures.get());
      measured = window.summary();
    }
    Judgement j = policy.judge(window);
    judgedFlipRate = number(measured.get("flip_rate"));
    judgedCosine = number(measured.get("cosine_mean"));
    int step = record.step();
    int failed = record.failedIntervals();
    String verdicts =
        (j.passed() ? j.verdicts() : j.failures())
            .stream().map(RuleVerdict::message).collect(Collectors.joining("; "));
    StringBuilder why =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "policy %s %s on %d paired samples (%s)",
                policy.name(),
                j.passed() ? "holds" : "fails",
                paired,
                verdicts));
    Map<String, Object> details = new LinkedHashMap<>(measured);
    details.remove("slices");
    List<String> failedSlices = judgeSlices(why, details);
    String head = why.toString();
    boolean passed = j.passed() && failedSlices.isEmpty();
    details.put("policy", policy.name());
    details.put("passed", passed);
    if (passed) {
      if (settings.lastStep(step)) {
        return decide("promote", RolloutRecord.Status.PROMOTED, step, failed, head, details);
      }
      return decide(
          "step_up",
          RolloutRecord.Status.RUNNING,
          step + 1,
          failed,
          head + String.format(Locale.ROOT, "; share %s → %s", pct(step), pct(step + 1)),
          details);
    }
    failed++;
    details.put("failed_rules", j.failures().stream().map(RuleVerdict::name).toList());
    details.put("failed_slices", failedSlices);
    if (failed >= settings.maxFailedIntervals()) {
      return decide(
          "rollback",
          RolloutRecord.Status.ROLLED_BACK,
          step,
          failed,
          head
              + "; "
              + failed
              + " failed intervals reach the budget of "
              + settings.maxFailedIntervals()
              + ": roll back",
          details);
    }
    return decide(
        "hold",
        RolloutRecord.Status.RUNNING,
        step,
        failed,
        head
            + "; "
            + failed
            + " failed interval(s), "
            + settings.maxFailedIntervals()
            + " roll back; holding at "
            + pct(step),
        details);
  }

  /** A slice's figures in the last judged window, for its meters. */
  private record SliceFigures(long paired, double flipRate, double cosine, double failed) {
    static final SliceFigures NONE = new SliceFigures(0, Double.NaN, Double.NaN, Double.NaN);
  }

  /**
   * Judges each slice's window with the policy (its drift rules aside), adds each slice's outcome
   * to the reason and its figures, with its verdict, to the details, and returns the slices that
   * failed. A slice with fewer paired samples than the rollout's minimum is inconclusive.
   */
  private List<String> judgeSlices(StringBuilder reason, Map<String, Object> details) {
    judgedSlices.replaceAll((k, v) -> SliceFigures.NONE);
    Map<String, LiveWindow> windows = window.bySlice();
    if (windows.isEmpty()) {
      return List.of();
    }
    List<String> failedSlices = new ArrayList<>();
    List<String> held = new ArrayList<>();
    List<String> inconclusive = new ArrayList<>();
    Map<String, Object> figures = new LinkedHashMap<>();
    for (Map.Entry<String, LiveWindow> e : windows.entrySet()) {
      String name = e.getKey();
      LiveWindow w = e.getValue();
      Map<String, Object> f = new LinkedHashMap<>(w.summary());
      long n = w.paired();
      String verdict;
      if (n < settings.minSamples()) {
        verdict = "inconclusive";
        inconclusive.add(name + " (" + n + ")");
      } else {
        Judgement js = slicePolicy.judge(w);
        if (js.passed()) {
          verdict = "pass";
          held.add(name);
        } else {
          verdict = "fail";
          failedSlices.add(name);
          List<RuleVerdict> failures = js.failures().stream().map(v -> onSlice(v, name)).toList();
          f.put("failed_rules", failures.stream().map(RuleVerdict::name).toList());
          reason.append(
              String.format(
                  Locale.ROOT,
                  "; fails on slice %s, %d paired samples (%s)",
                  name,
                  n,
                  failures.stream().map(RuleVerdict::message).collect(Collectors.joining("; "))));
        }
      }
      f.put("verdict", verdict);
      figures.put(name, f);
      boolean fresh = !judgedSlices.containsKey(name);
      judgedSlices.put(
          name,
          new SliceFigures(
              n,
              number(f.get("flip_rate")),
              number(f.get("cosine_mean")),
              switch (verdict) {
                case "fail" -> 1;
                case "pass" -> 0;
                default -> Double.NaN;
              }));
      if (fresh && metrics != null) {
        bindSliceMetrics(metrics, name);
      }
    }
    if (!held.isEmpty()) {
      reason.append("; holds on slice ").append(String.join(", ", held));
    }
    if (!inconclusive.isEmpty()) {
      reason.append(
          String.format(
              Locale.ROOT,
              "; slice %s inconclusive: fewer paired samples than the %d the rollout needs,"
                  + " neither pass nor fail",
              String.join(", ", inconclusive),
              settings.minSamples()));
    }
    details.put("slices", figures);
    return failedSlices;
  }

  /**
   * A slice window's verdict under its slice's name ({@code slice=inverted}): the window holds only
   * that slice's rows, so the policy judges them as the window's {@code all}.
   */
  private static RuleVerdict onSlice(RuleVerdict v, String slice) {
    return new RuleVerdict(
        v.candidate(),
        v.rule(),
        "slice=" + slice,
        v.samples(),
        v.outcome(),
        v.value(),
        v.baseline(),
        v.measured(),
        v.margin(),
        v.note());
  }

  /** Promotes the candidate now, whatever the window says. */
  public synchronized RolloutDecision promote(String reason) {
    return decide(
        "promote",
        RolloutRecord.Status.PROMOTED,
        record.step(),
        record.failedIntervals(),
        reason,
        Map.of("manual", true));
  }

  /** Rolls the candidate back now; production stays the baseline. */
  public synchronized RolloutDecision rollback(String reason) {
    return decide(
        "rollback",
        RolloutRecord.Status.ROLLED_BACK,
        record.step(),
        record.failedIntervals(),
        reason,
        Map.of("manual", true));
  }

  /** Freezes the rollout at its step: traffic keeps its split, no interval is judged. */
  public synchronized RolloutDecision pause(String reason) {
    if (record.status() != RolloutRecord.Status.RUNNING) {
      throw notRunning("paused");
    }
    return decide(
        "pause",
        RolloutRecord.Status.PAUSED,
        record.step(),
        record.failedIntervals(),
        reason,
        Map.of("manual", true));
  }

  /** Lets a paused rollout be judged again, with a fresh window. */
  public synchronized RolloutDecision resume(String reason) {
    if (record.status() != RolloutRecord.Status.PAUSED) {
      throw new InvalidInputException(
          "the rollout of " + candidate, "is not paused (" + record.status().id() + ")", "");
    }
    return decide(
        "resume",
        RolloutRecord.Status.RUNNING,
        record.step(),
        record.failedIntervals(),
        reason,
        Map.of("manual", true));
  }

  private InvalidInputException notRunning(String what) {
    return new InvalidInputException(
        "the rollout of " + candidate,
        "cannot be " + what + ": it is " + record.status().id(),
        "only a running rollout can be " + what);
  }

  private RolloutDecision decide(
      String decision,
      RolloutRecord.Status status,
      int step,
      int failed,
      String reason,
      Map<String, Object> details) {
    record =
        registry.recordRollout(
            record.id(), new RolloutChange(decision, status, step, failed, reason, details), actor);
    // Only once the decision is recorded: a failed write keeps the window for the next interval.
    window = new LiveWindow(candidate, baseline, slices);
    LOG.info("rollout of {}: {}: {}", candidate, decision, reason);
    count(decision);
    return last =
        new RolloutDecision(decision, status, step, share(record), failed, reason, details);
  }

  private double share(RolloutRecord r) {
    return switch (r.status()) {
      case PROMOTED -> 1;
      case ROLLED_BACK -> 0;
      default -> settings.share(r.step());
    };
  }

  private String pct(int step) {
    return Math.round(settings.share(step) * 100) + " %";
  }

  // ---------------------------------------------------------------- state

  public ModelKey candidate() {
    return candidate;
  }

  /** The policy each interval is judged by. */
  public Policy policy() {
    return policy;
  }

  /**
   * Judges the policy's rules on {@code drift_share}, {@code psi} and {@code overflow_rate} on the
   * monitor's latest closed window; without a closed window such an interval is inconclusive.
   */
  public synchronized void watch(DriftMonitor monitor) {
    this.drift = monitor;
  }

  public ModelKey baseline() {
    return baseline;
  }

  public RolloutSettings settings() {
    return settings;
  }

  public synchronized RolloutRecord record() {
    return record;
  }

  /** Requests the candidate ran (answered or not) that this controller observed. */
  public synchronized long candidateRequestsSeen() {
    return seen;
  }

  /** The latest decision (analysis or manual). */
  public synchronized RolloutDecision lastDecision() {
    return last;
  }

  /** The live window being collected, as {@link LiveWindow#summary()} gives it. */
  public synchronized Map<String, Object> windowSummary() {
    return window.summary();
  }

  /**
   * This rollout's recorded decisions, oldest first (the last {@code limit} change-log entries of
   * the model, those of this rollout): when, what, where it stood after, and the measured reason.
   * Inconclusive intervals are not recorded; {@link #lastDecision()} shows the latest.
   */
  public List<Map<String, Object>> history(int limit) {
    long id;
    synchronized (this) {
      id = record.id();
    }
    List<Map<String, Object>> out = new ArrayList<>();
    for (ChangeLogEntry e : registry.log(candidate.name(), limit)) {
      // The start entry's sequence number is the rollout's id; later entries name it.
      boolean ours =
          e.seq() == id || e.details().get("rollout") instanceof Number n && n.longValue() == id;
      if (!ours) {
        continue;
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("seq", e.seq());
      m.put("at", e.at().toString());
      m.put("decision", String.valueOf(e.details().getOrDefault("decision", e.action().name())));
      m.put("step", e.details().get("step"));
      m.put("actor", e.actor());
      m.put("reason", e.reason());
      out.add(m);
    }
    return out;
  }

  /** Where the rollout stands, for the status endpoint. */
  public synchronized Map<String, Object> status() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("rollout", record.id());
    m.put("model", candidate.name());
    m.put("candidate", candidate.version());
    m.put("baseline", baseline.version());
    m.put("mode", settings.mode().id());
    m.put("state", record.status().id());
    m.put("step", record.step());
    m.put("steps", settings.steps());
    m.put("share", share(record));
    m.put("failed_intervals", record.failedIntervals());
    m.put("max_failed_intervals", settings.maxFailedIntervals());
    m.put("min_samples", settings.minSamples());
    m.put("interval_ms", settings.interval().toMillis());
    m.put("policy", policy.name());
    m.put("window", window.summary());
    m.put("max_slices", slices.limit());
    Map<String, Object> judged = new LinkedHashMap<>();
    judgedSlices.forEach(
        (name, f) -> {
          Map<String, Object> x = new LinkedHashMap<>();
          x.put("paired_samples", f.paired());
          x.put("flip_rate", Double.isNaN(f.flipRate()) ? null : f.flipRate());
          x.put("cosine_mean", Double.isNaN(f.cosine()) ? null : f.cosine());
          x.put(
              "verdict",
              Double.isNaN(f.failed()) ? "inconclusive" : f.failed() == 1 ? "fail" : "pass");
          judged.put(name, x);
        });
    m.put("judged_slices", judged);
    m.put("last_decision", Map.of("decision", last.decision(), "reason", last.reason()));
    return m;
  }

  /**
   * Adds the rollout's meters: {@code quantguard_rollout_share}, {@code _step}, {@code
   * _failed_intervals}, {@code _state} (1 for the current state), {@code _window_paired_samples},
   * {@code _flip_rate} and {@code _cosine_mean} of the last judged window, and {@code
   * _decisions_total} by decision. Each judged slice adds {@code
   * quantguard_rollout_slice_flip_rate}, {@code _slice_cosine_mean}, {@code _slice_paired_samples}
   * and {@code _slice_failed} (1 failed, 0 passed, NaN inconclusive or absent) of the last judged
   * window, tagged {@code slice}: at most {@value TrafficSlices#DEFAULT_LIMIT} names and {@code
   * other}.
   */
  synchronized void bindMetrics(MeterRegistry registry) {
    this.metrics = registry;
    String model = candidate.name();
    String version = Integer.toString(candidate.version());
    gauge(registry, "share", "the candidate's share of traffic, 0 to 1", c -> share(c.record));
    gauge(registry, "step", "the canary step (0 first)", c -> c.record.step());
    gauge(
        registry,
        "failed.intervals",
        "failed analysis intervals so far",
        c -> c.record.failedIntervals());
    gauge(
        registry,
        "window.paired.samples",
        "paired samples in the window being collected",
        c -> c.window.paired());
    gauge(registry, "flip.rate", "flip rate of the last judged window", c -> c.judgedFlipRate);
    gauge(registry, "cosine.mean", "mean cosine of the last judged window", c -> c.judgedCosine);
    for (RolloutRecord.Status s : RolloutRecord.Status.values()) {
      Gauge.builder("quantguard.rollout.state", this, c -> c.state(s))
          .tags("model", model, "candidate", version, "state", s.id())
          .description("1 for the rollout's current state")
          .register(registry);
    }
  }

  private void bindSliceMetrics(MeterRegistry registry, String slice) {
    sliceGauge(registry, slice, "flip.rate", "flip rate", SliceFigures::flipRate);
    sliceGauge(registry, slice, "cosine.mean", "mean cosine", SliceFigures::cosine);
    sliceGauge(registry, slice, "paired.samples", "paired samples", f -> f.paired());
    sliceGauge(
        registry, slice, "failed", "1 when the slice failed the policy, 0 passed", f -> f.failed());
  }

  private void sliceGauge(
      MeterRegistry registry,
      String slice,
      String name,
      String what,
      java.util.function.ToDoubleFunction<SliceFigures> f) {
    Gauge.builder(
            "quantguard.rollout.slice." + name,
            this,
            c -> {
              synchronized (c) {
                return f.applyAsDouble(c.judgedSlices.getOrDefault(slice, SliceFigures.NONE));
              }
            })
        .tags(
            "model",
            candidate.name(),
            "candidate",
            Integer.toString(candidate.version()),
            "slice",
            slice)
        .description(what + " of the slice in the last judged window")
        .register(registry);
  }

  private void gauge(
      MeterRegistry registry,
      String name,
      String description,
      java.util.function.ToDoubleFunction<RolloutController> f) {
    Gauge.builder(
            "quantguard.rollout." + name,
            this,
            c -> {
              synchronized (c) {
                return f.applyAsDouble(c);
              }
            })
        .tags("model", candidate.name(), "candidate", Integer.toString(candidate.version()))
        .description(description)
        .register(registry);
  }

  private synchronized double state(RolloutRecord.Status s) {
    return record.status() == s ? 1 : 0;
  }

  private void count(String decision) {
    if (metrics != null) {
      Counter.builder("quantguard.rollout.decisions")
          .tags(
              "model",
              candidate.name(),
              "candidate",
              Integer.toString(candidate.version()),
              "decision",
              decision)
          .description("rollout decisions by kind")
          .register(metrics)
          .increment();
    }
  }

  private static double number(@Nullable Object o) {
    return o instanceof Number n ? n.doubleValue() : Double.NaN;
  }

  /** Judges the window every interval on a daemon thread until {@link #close}. */
  synchronized void startAnalysis() {
    if (analysis != null) {
      return;
    }
    analysis =
        DaemonClock.every(
            "quantguard-rollout",
            settings.interval(),
            () -> {
              try {
                analyze();
              } catch (RuntimeException e) {
                LOG.warn(
                    "the rollout analysis of {} failed; it runs again next interval", candidate, e);
              }
            });
  }

  /** Stops the analysis schedule; the rollout stays where it is in the registry. */
  @Override
  public void close() {
    ScheduledExecutorService a;
    synchronized (this) {
      a = analysis;
      analysis = null;
    }
    if (a != null) {
      a.shutdownNow();
    }
  }

  /** The versions the server must serve for this rollout: baseline first (the default). */
  List<ModelSource> sources() {
    return List.of(
        new ModelSource.Registered(registry, record.baselineRef()),
        new ModelSource.Registered(registry, record.candidateRef()));
  }
}

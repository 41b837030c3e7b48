package io.quantguard.evaluate.drift;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A mergeable accumulator of a window of traffic (or offline data) over a {@link
 * ReferenceProfile}'s features: {@code add} batches, {@code merge} windows kept on other threads or
 * machines, {@code result} compares with the reference. Per feature it keeps exact counts per
 * reference bin, the moments and a uniform sample of at most the profile's sample size, so memory
 * does not grow with the window. Counts and moments merge to the same answer however the data was
 * split; the sample does too while the window holds no more values than its capacity (see {@link
 * Reservoir}).
 *
 * <p>Not thread-safe: give each thread its own window and merge them (as the evaluation does with
 * its metrics), or guard one window with a lock. {@link #state} is a plain record that serializes
 * to JSON (Jackson), and {@link #restore} rebuilds the window from it, so a window can be persisted
 * between analysis intervals and merged later.
 */
public final class DriftWindow {
  private final ReferenceProfile profile;
  private final FeatureExtractor extractor;
  private final List<FeatureSketch> sketches = new ArrayList<>();
  private long samples;

  DriftWindow(ReferenceProfile profile) {
    this.profile = profile;
    this.extractor = new FeatureExtractor(profile.inputs(), profile.outputs(), profile.settings());
    List<Feature> features = profile.features();
    for (int f = 0; f < features.size(); f++) {
      sketches.add(features.get(f).newSketch(profile.settings().sampleSize(), seed(f)));
    }
  }

  private long seed(int feature) {
    return profile.settings().seed() + feature;
  }

  public ReferenceProfile profile() {
    return profile;
  }

  /**
   * Adds a batch: model inputs by input name and the model's outputs by output name (first
   * dimension = samples). Features whose tensor is missing are left out for this batch, so a window
   * can watch inputs alone.
   */
  public void add(Map<String, Tensor> inputs, Map<String, Tensor> outputs) {
    double[][] v = extractor.extract(inputs, outputs);
    int n = 0;
    for (int f = 0; f < v.length; f++) {
      if (v[f] != null) {
        n = Math.max(n, v[f].length);
        for (double x : v[f]) {
          sketches.get(f).add(x);
        }
      }
    }
    samples += n;
  }

  public void add(Batch batch, Map<String, Tensor> outputs) {
    add(batch.inputs(), outputs);
  }

  /** Folds in a window over the same profile. */
  public void merge(DriftWindow other) {
    requireSameProfile(other.profile.features().stream().map(Feature::name).toList());
    for (int f = 0; f < sketches.size(); f++) {
      sketches.get(f).merge(other.sketches.get(f));
    }
    samples += other.samples;
  }

  private void requireSameProfile(List<String> names) {
    if (!names.equals(profile.features().stream().map(Feature::name).toList())) {
      throw new InvalidInputException(
          "drift window",
          "has features " + names + ", not the profile's",
          "merge only windows of the same reference profile");
    }
  }

  public long samples() {
    return samples;
  }

  public DriftResult result() {
    return result(DriftTests.defaults());
  }

  /** Compares every feature with the reference. */
  public DriftResult result(DriftTests tests) {
    List<DriftResult.FeatureDrift> out = new ArrayList<>();
    int judged = 0;
    int drifted = 0;
    for (int f = 0; f < sketches.size(); f++) {
      DriftResult.FeatureDrift d = compare(profile.features().get(f), sketches.get(f), tests);
      out.add(d);
      if (d.samples() > 0) {
        judged++;
        drifted += d.drifted() ? 1 : 0;
      }
    }
    return new DriftResult(samples, out, judged == 0 ? 0 : (double) drifted / judged);
  }

  /** A test's score; {@link DriftTests#methodFor} picks only tests that fit the feature's kind. */
  private static double scoreOf(@Nullable Double score, DriftTests.Method method, Feature ref) {
    if (score == null) {
      throw new IllegalStateException(
          method + " does not apply to " + ref.kind() + " feature " + ref.name());
    }
    return score;
  }

  private static DriftResult.FeatureDrift compare(Feature ref, FeatureSketch s, DriftTests tests) {
    DriftTests.Method method = tests.methodFor(ref.kind(), ref.samples());
    double threshold = tests.threshold(method);
    long n = s.count();
    if (n == 0) {
      return new DriftResult.FeatureDrift(
          ref.name(),
          ref.kind(),
          0,
          method,
          null,
          threshold,
          false,
          null,
          null,
          null,
          null,
          null,
          null,
          ref.mean(),
          null);
    }
    long[] counts =
        Objects.requireNonNull(s.counts(), "a window's sketch has the reference's bins");
    double[] shares = new double[counts.length];
    for (int i = 0; i < counts.length; i++) {
      shares[i] = (double) counts[i] / n;
    }
    double js = DriftStatistics.jensenShannon(ref.proportions(), shares);
    double psi = DriftStatistics.psi(ref.proportions(), shares, tests.epsilon());
    Double ksD = null;
    Double ksP = null;
    Double chiP = null;
    Double wd = null;
    if (ref.kind() == Feature.Kind.NUMERIC) {
      double[] sample = s.sorted();
      DriftStatistics.Test ks = DriftStatistics.kolmogorovSmirnov(ref.sample(), sample);
      ksD = ks.statistic();
      ksP = ks.pValue();
      wd = DriftStatistics.wasserstein(ref.sample(), sample) / Math.max(ref.std(), 0.001);
    } else {
      chiP = DriftStatistics.chiSquare(ref.proportions(), counts, tests.epsilon()).pValue();
    }
    double score =
        switch (method) {
          case KS -> scoreOf(ksP, method, ref);
          case CHI_SQUARE -> scoreOf(chiP, method, ref);
          case WASSERSTEIN -> scoreOf(wd, method, ref);
          case JENSEN_SHANNON -> js;
          case PSI -> psi;
        };
    boolean drifted = method.isTest() ? score < threshold : score >= threshold;
    return new DriftResult.FeatureDrift(
        ref.name(),
        ref.kind(),
        n,
        method,
        score,
        threshold,
        drifted,
        ksD,
        ksP,
        chiP,
        wd,
        js,
        psi,
        ref.mean(),
        s.mean());
  }

  /** The window's state, to persist as JSON and {@link #restore} later. */
  public State state() {
    List<FeatureState> features = new ArrayList<>();
    for (int f = 0; f < sketches.size(); f++) {
      features.add(sketches.get(f).state(profile.features().get(f).name()));
    }
    return new State(samples, features);
  }

  /** Rebuilds a persisted window over its profile. */
  public static DriftWindow restore(ReferenceProfile profile, State state) {
    DriftWindow w = new DriftWindow(profile);
    w.requireSameProfile(state.features().stream().map(FeatureState::feature).toList());
    for (int f = 0; f < w.sketches.size(); f++) {
      w.sketches.get(f).restore(state.features().get(f), w.seed(f));
    }
    w.samples = state.samples();
    return w;
  }

  /** A window's persisted state. */
  public record State(long samples, List<FeatureState> features) {
    public State {
      features = List.copyOf(features);
    }
  }

  /**
   * One feature's persisted sketch: moments (count, mean, M2 = Σ(x − mean)², extremes), counts per
   * reference bin or category, and the sample with its priorities (see {@link Reservoir}).
   *
   * @param sampleSeen values the sample has been offered
   */
  public record FeatureState(
      String feature,
      long samples,
      double mean,
      double m2,
      double min,
      double max,
      long[] counts,
      long sampleSeen,
      double[] sample,
      long[] samplePriorities) {}
}

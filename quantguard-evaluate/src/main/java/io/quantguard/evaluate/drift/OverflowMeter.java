package io.quantguard.evaluate.drift;

import io.quantguard.report.CalibrationCoverage;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A mergeable accumulator of the calibration-range overflow rate: per calibrated tensor the number
 * of FP32 activation values seen and how many the quantized model clips (below and above its
 * range), and the {@code worstSamples} samples with the highest share of clipped values. The rate
 * of a tensor is clipped / values; the overall rate weighs every value alike. Counts merge exactly;
 * the worst samples are the worst of the union (ties broken by sample id), so any split of the data
 * merges to the same answer. Memory: three counters per tensor and {@code worstSamples} entries.
 *
 * <p>Not thread-safe: one meter per thread (or machine: it is serializable), then {@link #merge}.
 * {@link #state} serializes to JSON and {@link #restore} rebuilds the meter, so a window can be
 * persisted.
 */
public final class OverflowMeter implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  /**
   * A sample of the batch: a stable id (e.g. {@code test#17}, a request id) and optionally what it
   * is (the start of its text).
   */
  public record Sample(String id, @Nullable String detail) {}

  private static final Comparator<CalibrationCoverage.ClippingSample> WORST_FIRST =
      Comparator.comparingDouble(CalibrationCoverage.ClippingSample::rate)
          .reversed()
          .thenComparing(
              Comparator.comparingLong(CalibrationCoverage.ClippingSample::clipped).reversed())
          .thenComparing(CalibrationCoverage.ClippingSample::sample);

  private final CalibrationRanges ranges;
  private final int keep;
  private final LinkedHashMap<String, long[]> counts = new LinkedHashMap<>();
  private final ArrayList<CalibrationCoverage.ClippingSample> worst = new ArrayList<>();
  private long samples;

  /** A meter over {@code ranges} that names the {@code worstSamples} samples clipping most. */
  public OverflowMeter(CalibrationRanges ranges, int worstSamples) {
    this.ranges = ranges;
    this.keep = worstSamples;
    ranges.ranges().forEach(r -> counts.put(r.tensor(), new long[3]));
  }

  /** Adds every sample of a batch; {@code samples.get(i)} names row i. */
  public void add(OverflowCounts c, List<Sample> samples) {
    int[] all = new int[c.samples()];
    for (int i = 0; i < all.length; i++) {
      all[i] = i;
    }
    add(c, all, samples);
  }

  /**
   * Adds the batch rows {@code rows} (a slice of it); {@code samples.get(i)} names row i. Values
   * that cannot be attributed to a sample are added only when {@code rows} is the whole batch.
   */
  public void add(OverflowCounts c, int[] rows, List<Sample> samples) {
    boolean whole = rows.length == c.samples();
    long[] sampleValues = new long[rows.length];
    long[] sampleClipped = new long[rows.length];
    String[] worstTensor = new String[rows.length];
    double[] worstRate = new double[rows.length];
    for (OverflowCounts.TensorCounts t : c.tensors()) {
      long[] total = counts.get(t.tensor());
      if (total == null) {
        throw new IllegalArgumentException(
            "tensor " + t.tensor() + " has no calibrated range in this meter");
      }
      for (int i = 0; i < rows.length; i++) {
        int r = rows[i];
        long clipped = t.below()[r] + t.above()[r];
        total[0] += t.values()[r];
        total[1] += t.below()[r];
        total[2] += t.above()[r];
        sampleValues[i] += t.values()[r];
        sampleClipped[i] += clipped;
        double rate = t.values()[r] == 0 ? 0 : (double) clipped / t.values()[r];
        if (clipped > 0 && rate > worstRate[i]) {
          worstRate[i] = rate;
          worstTensor[i] = t.tensor();
        }
      }
      if (whole) {
        total[0] += t.unattributedValues();
        total[1] += t.unattributedBelow();
        total[2] += t.unattributedAbove();
      }
    }
    this.samples += rows.length;
    for (int i = 0; i < rows.length; i++) {
      if (sampleClipped[i] > 0) {
        Sample s = samples.get(rows[i]);
        offer(
            new CalibrationCoverage.ClippingSample(
                s.id(),
                s.detail(),
                sampleValues[i],
                sampleClipped[i],
                (double) sampleClipped[i] / sampleValues[i],
                worstTensor[i],
                worstRate[i]));
      }
    }
  }

  private void offer(CalibrationCoverage.ClippingSample s) {
    if (keep == 0) {
      return;
    }
    int at = 0;
    while (at < worst.size() && WORST_FIRST.compare(worst.get(at), s) <= 0) {
      at++;
    }
    if (at < keep) {
      worst.add(at, s);
      if (worst.size() > keep) {
        worst.remove(worst.size() - 1);
      }
    }
  }

  /** Folds in a meter over the same ranges. */
  public void merge(OverflowMeter other) {
    if (!other.counts.keySet().equals(counts.keySet())) {
      throw new IllegalArgumentException("cannot merge meters over different tensors");
    }
    other.counts.forEach(
        (t, c) -> {
          long[] mine = countsOf(t);
          for (int i = 0; i < 3; i++) {
            mine[i] += c[i];
          }
        });
    other.worst.forEach(this::offer);
    samples += other.samples;
  }

  /** The counters of a tensor this meter has a range for. */
  private long[] countsOf(String tensor) {
    return Objects.requireNonNull(counts.get(tensor), () -> "no range for tensor " + tensor);
  }

  public long samples() {
    return samples;
  }

  /** Clipped values / all values measured, over every tensor (NaN before any value). */
  public double rate() {
    long values = 0;
    long clipped = 0;
    for (long[] c : counts.values()) {
      values += c[0];
      clipped += c[1] + c[2];
    }
    return values == 0 ? Double.NaN : (double) clipped / values;
  }

  /** The coverage of one slice: every tensor (highest rate first) and the worst samples. */
  public CalibrationCoverage.Slice result(String slice) {
    List<CalibrationCoverage.TensorOverflow> tensors = new ArrayList<>();
    long values = 0;
    long clipped = 0;
    for (CalibrationRanges.Range r : ranges.ranges()) {
      long[] c = countsOf(r.tensor());
      values += c[0];
      clipped += c[1] + c[2];
      tensors.add(
          new CalibrationCoverage.TensorOverflow(
              r.tensor(),
              r.low(),
              r.high(),
              c[0],
              c[1],
              c[2],
              c[0] == 0 ? 0 : (double) (c[1] + c[2]) / c[0]));
    }
    tensors.sort(Comparator.comparingDouble(CalibrationCoverage.TensorOverflow::rate).reversed());
    return new CalibrationCoverage.Slice(
        slice,
        samples,
        values,
        clipped,
        values == 0 ? 0 : (double) clipped / values,
        tensors,
        worst);
  }

  /** The meter's state, to persist as JSON and {@link #restore} later. */
  public State state() {
    Map<String, long[]> copy = new LinkedHashMap<>();
    counts.forEach((t, c) -> copy.put(t, c.clone()));
    return new State(samples, copy, List.copyOf(worst));
  }

  /** Rebuilds a persisted meter over the same ranges. */
  public static OverflowMeter restore(CalibrationRanges ranges, int worstSamples, State state) {
    OverflowMeter m = new OverflowMeter(ranges, worstSamples);
    if (!state.counts().keySet().equals(m.counts.keySet())) {
      throw new IllegalArgumentException(
          "the persisted meter covers other tensors than these ranges");
    }
    state.counts().forEach((t, c) -> System.arraycopy(c, 0, m.counts.get(t), 0, 3));
    state.worstSamples().forEach(m::offer);
    m.samples = state.samples();
    return m;
  }

  /**
   * A meter's persisted state.
   *
   * @param counts per tensor: values, below, above
   */
  public record State(
      long samples,
      Map<String, long[]> counts,
      List<CalibrationCoverage.ClippingSample> worstSamples) {}
}

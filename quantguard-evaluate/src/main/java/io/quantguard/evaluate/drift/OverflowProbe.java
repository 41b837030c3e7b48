package io.quantguard.evaluate.drift;

import io.quantguard.onnx.Graph;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.proto.Onnx.ValueInfoProto;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import java.lang.reflect.Array;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Runs the FP32 model with the calibrated tensors exposed as extra outputs and counts, per batch,
 * the activations outside the quantized model's ranges. Graph inputs that were quantized are read
 * from the feed itself.
 *
 * <p>Token inputs are padded to the longest sample of a batch, and the model computes activations
 * at the padding too, which the outputs never see. When an {@code attention_mask} shows right
 * padding, the probe therefore runs the samples in groups of equal length with the padding cut off,
 * so only real tokens are counted (a mask with padding elsewhere is run as it is).
 *
 * <p>The probe keeps no state between calls: concurrent {@link #count} calls are as safe as
 * concurrent runs of its one {@link InferenceSession}. Close it to release the session.
 */
public final class OverflowProbe implements AutoCloseable {
  private final InferenceSession session;
  private final Matched matched;

  private OverflowProbe(InferenceSession session, Matched matched) {
    this.session = session;
    this.matched = matched;
  }

  /** Opens the FP32 model with the tensors of {@code ranges} it has exposed. */
  public static OverflowProbe open(Path fp32, CalibrationRanges ranges, SessionConfig config) {
    return open(ModelIO.load(fp32), ranges, config);
  }

  /** Opens the FP32 model with the tensors of {@code ranges} it has exposed. */
  public static OverflowProbe open(OnnxModel fp32, CalibrationRanges ranges, SessionConfig config) {
    Matched m = match(fp32, ranges);
    InferenceSession s = InferenceSession.open(fp32, config, m.exposed());
    return new OverflowProbe(s, m);
  }

  /**
   * The ranges of the tensors an FP32 model has, split from those it lacks.
   *
   * @param ranges the ranges of the tensors the model computes or takes as inputs
   * @param unmatched tensors with a calibrated range that the model does not have
   * @param exposed the computed ones, which the probe's session adds as outputs
   */
  public record Matched(CalibrationRanges ranges, List<String> unmatched, List<String> exposed) {}

  /** Which of {@code ranges} the FP32 model has (what a probe on it counts). */
  public static Matched match(OnnxModel fp32, CalibrationRanges ranges) {
    Graph g = fp32.graph();
    Set<String> produced = new HashSet<>(g.nodeOutputs());
    Set<String> inputs = new HashSet<>();
    for (ValueInfoProto in : g.runtimeInputs()) {
      inputs.add(in.getName());
    }
    List<CalibrationRanges.Range> matched = new ArrayList<>();
    List<String> unmatched = new ArrayList<>();
    List<String> exposed = new ArrayList<>();
    for (CalibrationRanges.Range r : ranges.ranges()) {
      if (produced.contains(r.tensor())) {
        matched.add(r);
        exposed.add(r.tensor());
      } else if (inputs.contains(r.tensor())) {
        matched.add(r);
      } else {
        unmatched.add(r.tensor());
      }
    }
    return new Matched(
        new CalibrationRanges(ranges.model(), matched, ranges.skipped()),
        List.copyOf(unmatched),
        List.copyOf(exposed));
  }

  /** The probe's session, for a pool that keeps sessions open; closing it closes the probe. */
  public InferenceSession session() {
    return session;
  }

  /** The ranges of the tensors the FP32 model has: what the counts cover. */
  public CalibrationRanges ranges() {
    return matched.ranges();
  }

  /** Tensors with a calibrated range that the FP32 model does not have. */
  public List<String> unmatched() {
    return matched.unmatched();
  }

  /** Which ranges the FP32 model has and which it lacks. */
  public Matched matched() {
    return matched;
  }

  /** Counts one batch of model inputs (by input name, or the only one). */
  public OverflowCounts count(Map<String, Tensor> inputs) {
    Map<String, Tensor> feed = Profiler.feed(session, inputs);
    int n = feed.values().iterator().next().batchSize();
    Tensor mask = feed.get(FeatureExtractor.ATTENTION_MASK);
    Map<Integer, List<Integer>> byLength = mask == null ? null : rightPaddedLengths(mask);
    if (mask == null || byLength == null) {
      return measure(feed, n);
    }
    int len = (int) mask.shape()[1];
    List<int[]> rows = new ArrayList<>();
    List<OverflowCounts> parts = new ArrayList<>();
    for (Map.Entry<Integer, List<Integer>> e : byLength.entrySet()) {
      int[] r = e.getValue().stream().mapToInt(Integer::intValue).toArray();
      Map<String, Tensor> part = new LinkedHashMap<>();
      feed.forEach((k, v) -> part.put(k, take(v, r, len, e.getKey())));
      rows.add(r);
      parts.add(measure(part, r.length));
    }
    return OverflowCounts.combine(n, rows, parts);
  }

  private OverflowCounts measure(Map<String, Tensor> feed, int n) {
    Map<String, Tensor> acts = new LinkedHashMap<>(feed);
    if (!matched.exposed().isEmpty()) {
      acts.putAll(session.run(feed, matched.exposed()));
    }
    return OverflowCounts.of(matched.ranges(), acts, n);
  }

  /**
   * Rows grouped by their token count when every row of the mask is ones then zeros and some row is
   * padded; null otherwise (nothing to cut, or padding that is not at the end).
   */
  private static @Nullable Map<Integer, List<Integer>> rightPaddedLengths(Tensor mask) {
    long[] s = mask.shape();
    if (s.length != 2) {
      return null;
    }
    int n = (int) s[0];
    int len = (int) s[1];
    Map<Integer, List<Integer>> groups = new LinkedHashMap<>();
    boolean padded = false;
    for (int r = 0; r < n; r++) {
      int t = 0;
      while (t < len && mask.get(r * len + t) != 0) {
        t++;
      }
      for (int i = t; i < len; i++) {
        if (mask.get(r * len + i) != 0) {
          return null;
        }
      }
      padded |= t < len;
      groups.computeIfAbsent(t, k -> new ArrayList<>()).add(r);
    }
    return padded ? groups : null;
  }

  /**
   * Rows {@code rows} of a tensor; a [batch, {@code len}] tensor (a token input) keeps its first
   * {@code cols} columns.
   */
  private static Tensor take(Tensor t, int[] rows, int len, int cols) {
    long[] shape = t.shape();
    int row = (int) (t.elementCount() / shape[0]);
    boolean cut = shape.length == 2 && shape[1] == len;
    int keep = cut ? cols : row;
    shape[0] = rows.length;
    if (cut) {
      shape[1] = cols;
    }
    Object src = t.data();
    Object dst = Array.newInstance(src.getClass().getComponentType(), rows.length * keep);
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(src, rows[i] * row, dst, i * keep, keep);
    }
    return switch (t.type()) {
      case FLOAT -> Tensor.ofFloats((float[]) dst, shape);
      case INT64 -> Tensor.ofLongs((long[]) dst, shape);
      case INT32 -> Tensor.ofInts((int[]) dst, shape);
      default -> Tensor.ofBytes(t.type(), (byte[]) dst, shape);
    };
  }

  @Override
  public void close() {
    session.close();
  }
}

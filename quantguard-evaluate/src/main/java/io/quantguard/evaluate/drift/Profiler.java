package io.quantguard.evaluate.drift;

import io.quantguard.evaluate.task.Embeddings;
import io.quantguard.onnx.DataType;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.TensorType;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import org.apache.commons.statistics.descriptive.Quantile;

/** Builds a {@link ReferenceProfile}: two passes over the reference data, see the builder. */
final class Profiler {
  /** Elements sampled per float input for its p0.1 and p99.9: about 65 beyond each. */
  private static final int ELEMENT_SAMPLE = 1 << 16;

  private final ReferenceProfile.Builder b;
  private final Path model;
  private final String modelName;
  private final DataSource data;
  private final ReferenceProfile.Settings settings;

  /** {@code model}, {@code modelName} and {@code data}: the builder's, checked to be there. */
  Profiler(ReferenceProfile.Builder builder, Path model, String modelName, DataSource data) {
    this.b = builder;
    this.model = model;
    this.modelName = modelName;
    this.data = data;
    this.settings =
        new ReferenceProfile.Settings(b.bins, b.sampleSize, b.seed, b.tokenInput, b.unknownTokenId);
  }

  ReferenceProfile run() {
    try (InferenceSession session = InferenceSession.open(model, b.session)) {
      Constants c = constants(session);
      FeatureExtractor extractor = new FeatureExtractor(c.inputs, c.outputs, settings);
      List<FeatureExtractor.Spec> specs = extractor.specs();
      if (specs.isEmpty()) {
        throw new InvalidInputException(
            modelName,
            "has no float or token input and no output this profile can summarize",
            "name the outputs' kinds (classes, embedding, score) when their shapes do not say");
      }
      List<FeatureSketch> sketches = new ArrayList<>();
      for (int f = 0; f < specs.size(); f++) {
        FeatureExtractor.Spec s = specs.get(f);
        sketches.add(new FeatureSketch(s.kind(), null, s.categories(), b.sampleSize, b.seed + f));
      }
      List<String> wanted = c.outputs.stream().map(ReferenceProfile.Output::name).toList();
      long samples = 0;
      try (BatchStream stream = data.open(b.batchSize)) {
        while (stream.hasNext()) {
          Map<String, Tensor> feed = feed(session, stream.next().inputs());
          Map<String, Tensor> out = wanted.isEmpty() ? Map.of() : session.run(feed, wanted);
          double[][] v = extractor.extract(feed, out);
          for (int f = 0; f < v.length; f++) {
            for (double x : v[f]) {
              sketches.get(f).add(x);
            }
          }
          samples += feed.values().iterator().next().batchSize();
          b.progress.update("reference features", samples, data.size().orElse(-1));
        }
      }
      List<Feature> features = new ArrayList<>();
      for (int f = 0; f < specs.size(); f++) {
        features.add(finish(specs.get(f), sketches.get(f), b.bins));
      }
      return new ReferenceProfile(
          ReferenceProfile.SCHEMA,
          modelName,
          data.name(),
          samples,
          settings,
          c.inputs,
          c.outputs,
          features);
    }
  }

  private record Constants(
      List<ReferenceProfile.Input> inputs, List<ReferenceProfile.Output> outputs) {}

  /**
   * The first pass: the quantiles of every float input's elements and, for embedding outputs, the
   * mean embedding; the output kinds come from the first batch's shapes.
   */
  private Constants constants(InferenceSession session) {
    Map<String, Reservoir> elements = new LinkedHashMap<>();
    String tokens = null;
    for (Map.Entry<String, TensorType> e : session.inputs().entrySet()) {
      DataType t = e.getValue().elementType();
      if (t == DataType.FLOAT) {
        elements.put(e.getKey(), new Reservoir(ELEMENT_SAMPLE, b.seed));
      } else if (e.getKey().equals(b.tokenInput) && t.isInteger()) {
        tokens = e.getKey();
      }
    }
    Map<String, ReferenceProfile.OutputKind> kinds = null;
    Map<String, Integer> classes = new LinkedHashMap<>();
    Map<String, double[]> sums = new LinkedHashMap<>();
    long samples = 0;
    try (BatchStream stream = data.open(b.batchSize)) {
      while (stream.hasNext()) {
        Map<String, Tensor> feed = feed(session, stream.next().inputs());
        if (kinds == null) {
          kinds = new LinkedHashMap<>();
          Map<String, Tensor> out = session.run(feed);
          for (Map.Entry<String, Tensor> e : out.entrySet()) {
            ReferenceProfile.OutputKind k =
                b.outputKinds.getOrDefault(e.getKey(), kindOf(e.getValue()));
            kinds.put(e.getKey(), k);
            if (k == ReferenceProfile.OutputKind.CLASSES) {
              classes.put(e.getKey(), (int) e.getValue().shape()[e.getValue().rank() - 1]);
            }
          }
          checkNamedOutputs(kinds);
        }
        for (Map.Entry<String, Reservoir> e : elements.entrySet()) {
          Tensor input = Objects.requireNonNull(feed.get(e.getKey()), "float inputs are fed");
          for (float x : input.floats()) {
            e.getValue().add(x);
          }
        }
        List<String> embeddings =
            kinds.entrySet().stream()
                .filter(e -> e.getValue() == ReferenceProfile.OutputKind.EMBEDDING)
                .map(Map.Entry::getKey)
                .toList();
        if (!embeddings.isEmpty()) {
          Map<String, Tensor> out = session.run(feed, embeddings);
          for (String name : embeddings) {
            Tensor states = Objects.requireNonNull(out.get(name), () -> name + " was run");
            Embeddings emb = FeatureExtractor.pool(states, name, feed, true);
            double[] sum = sums.computeIfAbsent(name, k -> new double[emb.dim()]);
            for (int r = 0; r < emb.rows(); r++) {
              for (int d = 0; d < emb.dim(); d++) {
                sum[d] += emb.vectors()[emb.at(r) + d];
              }
            }
          }
        }
        samples += feed.values().iterator().next().batchSize();
        b.progress.update("reference constants", samples, data.size().orElse(-1));
        if (elements.isEmpty() && embeddings.isEmpty()) {
          break; // the output kinds were all this pass had to learn
        }
      }
    }
    if (kinds == null) {
      throw new InvalidInputException(
          data.name(), "has no samples", "check the path, offset and limit");
    }
    List<ReferenceProfile.Input> inputs = new ArrayList<>();
    for (Map.Entry<String, Reservoir> e : elements.entrySet()) {
      double[] q = Quantile.withDefaults().evaluate(e.getValue().sorted(), 0.001, 0.999);
      inputs.add(
          new ReferenceProfile.Input(e.getKey(), ReferenceProfile.InputKind.FLOAT, q[0], q[1]));
    }
    if (tokens != null) {
      inputs.add(new ReferenceProfile.Input(tokens, ReferenceProfile.InputKind.TOKENS, null, null));
    }
    List<ReferenceProfile.Output> outputs = new ArrayList<>();
    for (Map.Entry<String, ReferenceProfile.OutputKind> e : kinds.entrySet()) {
      ReferenceProfile.OutputKind k = e.getValue();
      if (k != ReferenceProfile.OutputKind.IGNORE) {
        outputs.add(
            new ReferenceProfile.Output(
                e.getKey(),
                k,
                classes.getOrDefault(e.getKey(), 0),
                k == ReferenceProfile.OutputKind.EMBEDDING
                    ? unit(
                        Objects.requireNonNull(
                            sums.get(e.getKey()), "embeddings are summed in the first pass"))
                    : new float[0]));
      }
    }
    return new Constants(inputs, outputs);
  }

  private void checkNamedOutputs(Map<String, ReferenceProfile.OutputKind> kinds) {
    for (String named : b.outputKinds.keySet()) {
      if (!kinds.containsKey(named)) {
        throw new InvalidInputException(
            "output " + named, "is not an output of " + modelName, "name one of " + kinds.keySet());
      }
    }
  }

  /** [batch, tokens, dim] → embedding, [batch, C ≥ 2] → classes, [batch] or [batch, 1] → score. */
  private static ReferenceProfile.OutputKind kindOf(Tensor t) {
    long[] s = t.shape();
    if (t.type() != DataType.FLOAT) {
      return ReferenceProfile.OutputKind.IGNORE;
    }
    if (s.length == 3) {
      return ReferenceProfile.OutputKind.EMBEDDING;
    }
    if (s.length == 2 && s[1] >= 2) {
      return ReferenceProfile.OutputKind.CLASSES;
    }
    return s.length == 1 || (s.length == 2 && s[1] == 1)
        ? ReferenceProfile.OutputKind.SCORE
        : ReferenceProfile.OutputKind.IGNORE;
  }

  private static float[] unit(double[] sum) {
    double norm = 0;
    for (double x : sum) {
      norm += x * x;
    }
    double inv = norm == 0 ? 0 : 1 / Math.sqrt(norm);
    float[] u = new float[sum.length];
    for (int i = 0; i < u.length; i++) {
      u[i] = (float) (sum[i] * inv);
    }
    return u;
  }

  /**
   * A batch's tensors under the model's input names: by name, or the only tensor to the only input.
   */
  static Map<String, Tensor> feed(InferenceSession session, Map<String, Tensor> in) {
    if (in.keySet().containsAll(session.inputs().keySet())) {
      return in;
    }
    if (in.size() == 1 && session.inputs().size() == 1) {
      return Map.of(session.inputs().keySet().iterator().next(), in.values().iterator().next());
    }
    throw new InvalidInputException(
        "data inputs " + in.keySet(),
        "do not match the inputs of " + session.modelName() + " " + session.inputs().keySet(),
        "name the data inputs after the model's (e.g. ?input="
            + session.inputs().keySet().iterator().next()
            + ")");
  }

  /**
   * Bin edges at the sample's quantiles i/k (i = 1 … k−1), and the share of the sample in each bin;
   * a categorical feature's shares are its category frequencies. Bins are (e<sub>j−1</sub>,
   * e<sub>j</sub>], so a value repeated across several quantiles (a point mass: texts truncated at
   * the same length, images with the same minimum) also gets the edge just below it and a bin of
   * its own, instead of hiding whatever lies under it; and the edges just below the reference's
   * minimum and at its maximum give values outside the reference's range bins of their own (empty
   * in the reference).
   */
  static Feature finish(FeatureExtractor.Spec spec, FeatureSketch s, int bins) {
    double[] edges = new double[0];
    double[] shares;
    double[] sample = s.sorted();
    if (spec.kind() == Feature.Kind.CATEGORICAL) {
      long[] counts = Objects.requireNonNull(s.counts(), "a categorical sketch counts categories");
      shares = new double[counts.length];
      for (int i = 0; i < counts.length; i++) {
        shares[i] = (double) counts[i] / s.count();
      }
    } else {
      double[] p = new double[bins - 1];
      for (int i = 0; i < p.length; i++) {
        p[i] = (i + 1.0) / bins;
      }
      double[] q = Quantile.withDefaults().evaluate(sample, p);
      TreeSet<Double> e = new TreeSet<>(List.of(Math.nextDown(s.min()), s.max()));
      for (int i = 0; i < q.length; i++) {
        e.add(q[i]);
        if (i > 0 && q[i] == q[i - 1]) {
          e.add(Math.nextDown(q[i]));
        }
      }
      edges = e.stream().mapToDouble(Double::doubleValue).toArray();
      shares = new double[edges.length + 1];
      for (double x : sample) {
        shares[FeatureSketch.bin(edges, x)] += 1.0 / sample.length;
      }
    }
    return new Feature(
        spec.name(),
        spec.tensor(),
        spec.statistic(),
        spec.kind(),
        s.count(),
        s.mean(),
        s.std(),
        s.min(),
        s.max(),
        edges,
        shares,
        sample);
  }
}

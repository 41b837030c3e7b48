package io.quantguard.evaluate.drift;

import io.quantguard.evaluate.task.Embeddings;
import io.quantguard.evaluate.task.Pooling;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Turns one batch of model inputs and outputs into the per-sample features {@link ReferenceProfile}
 * lists, measured against the profile's constants (element quantiles of float inputs, the mean
 * embedding, the unknown-token id).
 */
final class FeatureExtractor {
  static final String ATTENTION_MASK = "attention_mask";

  /** A feature: what it is called, where it comes from, and how many categories it has. */
  record Spec(String name, String tensor, String statistic, Feature.Kind kind, int categories) {}

  private final List<ReferenceProfile.Input> inputs;
  private final List<ReferenceProfile.Output> outputs;
  private final ReferenceProfile.Settings settings;
  private final List<Spec> specs = new ArrayList<>();

  FeatureExtractor(
      List<ReferenceProfile.Input> inputs,
      List<ReferenceProfile.Output> outputs,
      ReferenceProfile.Settings settings) {
    this.inputs = inputs;
    this.outputs = outputs;
    this.settings = settings;
    for (ReferenceProfile.Input in : inputs) {
      if (in.kind() == ReferenceProfile.InputKind.FLOAT) {
        for (String s : List.of("mean", "std", "min", "max", "zeros", "out_of_range")) {
          numeric(in.name(), s);
        }
      } else {
        numeric(in.name(), "tokens");
        if (settings.unknownTokenId() != null) {
          numeric(in.name(), "unknown_rate");
        }
      }
    }
    for (ReferenceProfile.Output out : outputs) {
      switch (out.kind()) {
        case CLASSES -> {
          specs.add(
              new Spec(
                  out.name() + ":class",
                  out.name(),
                  "class",
                  Feature.Kind.CATEGORICAL,
                  out.classes()));
          numeric(out.name(), "confidence");
          numeric(out.name(), "margin");
        }
        case EMBEDDING -> {
          numeric(out.name(), "norm");
          numeric(out.name(), "cosine");
        }
        case SCORE -> numeric(out.name(), "value");
        case IGNORE -> {}
      }
    }
  }

  private void numeric(String tensor, String statistic) {
    specs.add(new Spec(tensor + ":" + statistic, tensor, statistic, Feature.Kind.NUMERIC, 0));
  }

  List<Spec> specs() {
    return specs;
  }

  /**
   * The features of every sample, {@code values[feature][sample]}; a feature whose tensor is
   * missing from {@code modelInputs} or {@code modelOutputs} is null (a window may see inputs
   * only).
   */
  double[][] extract(Map<String, Tensor> modelInputs, Map<String, Tensor> modelOutputs) {
    double[][] values = new double[specs.size()][];
    int f = 0;
    for (ReferenceProfile.Input in : inputs) {
      Tensor t = modelInputs.get(in.name());
      int width = in.kind() == ReferenceProfile.InputKind.FLOAT ? 6 : tokenFeatures();
      if (t != null) {
        double[][] v =
            in.kind() == ReferenceProfile.InputKind.FLOAT
                ? floatFeatures(t, in)
                : tokenFeatures(t, modelInputs.get(ATTENTION_MASK));
        System.arraycopy(v, 0, values, f, width);
      }
      f += width;
    }
    for (ReferenceProfile.Output out : outputs) {
      Tensor t = modelOutputs.get(out.name());
      double[][] v =
          switch (out.kind()) {
            case CLASSES -> t == null ? new double[3][] : classFeatures(t, out);
            case EMBEDDING -> t == null ? new double[2][] : embeddingFeatures(t, out, modelInputs);
            case SCORE -> t == null ? new double[1][] : new double[][] {scores(t, out.name())};
            case IGNORE -> new double[0][];
          };
      System.arraycopy(v, 0, values, f, v.length);
      f += v.length;
    }
    return values;
  }

  private int tokenFeatures() {
    return settings.unknownTokenId() == null ? 1 : 2;
  }

  /** mean, std, min, max, zeros, out_of_range per sample. */
  private static double[][] floatFeatures(Tensor t, ReferenceProfile.Input in) {
    int n = t.batchSize();
    float[] x = t.toFloats();
    int m = n == 0 ? 0 : x.length / n;
    double low = Objects.requireNonNull(in.low(), "a float input's range is profiled");
    double high = Objects.requireNonNull(in.high(), "a float input's range is profiled");
    double[][] v = new double[6][n];
    for (int s = 0; s < n; s++) {
      double sum = 0;
      double min = Double.POSITIVE_INFINITY;
      double max = Double.NEGATIVE_INFINITY;
      long zeros = 0;
      long outside = 0;
      for (int i = s * m; i < (s + 1) * m; i++) {
        double e = x[i];
        sum += e;
        min = Math.min(min, e);
        max = Math.max(max, e);
        zeros += e == 0 ? 1 : 0;
        outside += e < low || e > high ? 1 : 0;
      }
      double mean = sum / m;
      double sq = 0;
      for (int i = s * m; i < (s + 1) * m; i++) {
        sq += (x[i] - mean) * (x[i] - mean);
      }
      v[0][s] = mean;
      v[1][s] = Math.sqrt(sq / m);
      v[2][s] = min;
      v[3][s] = max;
      v[4][s] = (double) zeros / m;
      v[5][s] = (double) outside / m;
    }
    return v;
  }

  /** tokens (and unknown_rate) per sample. */
  private double[][] tokenFeatures(Tensor ids, @Nullable Tensor mask) {
    int n = ids.batchSize();
    int len = n == 0 ? 0 : (int) (ids.elementCount() / n);
    if (mask != null && mask.elementCount() != ids.elementCount()) {
      throw new InvalidInputException(
          ATTENTION_MASK,
          "has shape " + Arrays.toString(mask.shape()) + " but " + ids + " has other dimensions",
          "feed the mask that goes with the token ids");
    }
    Long unknown = settings.unknownTokenId();
    double[][] v = new double[tokenFeatures()][n];
    for (int s = 0; s < n; s++) {
      long tokens = 0;
      long unk = 0;
      for (int i = s * len; i < (s + 1) * len; i++) {
        if (mask == null || mask.get(i) != 0) {
          tokens++;
          unk += unknown != null && ids.get(i) == unknown ? 1 : 0;
        }
      }
      v[0][s] = tokens;
      if (unknown != null) {
        v[1][s] = tokens == 0 ? 0 : (double) unk / tokens;
      }
    }
    return v;
  }

  /** class, confidence (max softmax) and margin (top two softmax probabilities apart). */
  private static double[][] classFeatures(Tensor t, ReferenceProfile.Output out) {
    long[] shape = t.shape();
    if (shape.length != 2 || shape[1] != out.classes()) {
      throw new InvalidInputException(
          "output '" + out.name() + "'",
          "has shape "
              + Arrays.toString(shape)
              + " but the reference had [batch, "
              + out.classes()
              + "]",
          "compare windows with a profile of the same model");
    }
    int n = (int) shape[0];
    int c = out.classes();
    float[] z = t.toFloats();
    double[][] v = new double[3][n];
    for (int s = 0; s < n; s++) {
      int best = 0;
      for (int j = 1; j < c; j++) {
        if (z[s * c + j] > z[s * c + best]) {
          best = j;
        }
      }
      double top = z[s * c + best];
      double sum = 0;
      double second = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < c; j++) {
        sum += Math.exp(z[s * c + j] - top);
        if (j != best) {
          second = Math.max(second, z[s * c + j]);
        }
      }
      double p1 = 1 / sum;
      double p2 = Math.exp(second - top) / sum;
      v[0][s] = best;
      v[1][s] = p1;
      v[2][s] = p1 - p2;
    }
    return v;
  }

  /** norm before normalization, and cosine to the reference's mean direction. */
  private static double[][] embeddingFeatures(
      Tensor t, ReferenceProfile.Output out, Map<String, Tensor> modelInputs) {
    Embeddings e = pool(t, out.name(), modelInputs, false);
    float[] mu = out.referenceMean();
    if (e.dim() != mu.length) {
      throw new InvalidInputException(
          "output '" + out.name() + "'",
          "has embeddings of " + e.dim() + " dimensions but the reference had " + mu.length,
          "compare windows with a profile of the same model");
    }
    double[][] v = new double[2][e.rows()];
    for (int s = 0; s < e.rows(); s++) {
      double norm = 0;
      double dot = 0;
      for (int d = 0; d < e.dim(); d++) {
        double x = e.vectors()[e.at(s) + d];
        norm += x * x;
        dot += x * mu[d];
      }
      norm = Math.sqrt(norm);
      v[0][s] = norm;
      v[1][s] = norm == 0 ? 0 : dot / norm;
    }
    return v;
  }

  /**
   * Sentence embeddings: attention-masked mean pooling of token states, or the vectors as given.
   */
  static Embeddings pool(
      Tensor states, String name, Map<String, Tensor> modelInputs, boolean normalize) {
    return Pooling.MEAN.embed(Batch.of(modelInputs), states, name, normalize);
  }

  private static double[] scores(Tensor t, String name) {
    long[] shape = t.shape();
    if (shape.length > 2 || (shape.length == 2 && shape[1] != 1)) {
      throw new InvalidInputException(
          "output '" + name + "'",
          "has shape " + Arrays.toString(shape) + "; a score output is [batch] or [batch, 1]",
          "profile it as classes or embedding instead");
    }
    float[] x = t.toFloats();
    double[] v = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      v[i] = x[i];
    }
    return v;
  }
}

package io.quantguard.evaluate.drift;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.report.AtomicFile;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.DataSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * What a model's inputs and outputs looked like on reference data (what Evidently calls the
 * reference dataset), kept as per-sample summary features so that a live or offline window can be
 * compared with it in bounded memory. Features, per model input and output:
 *
 * <ul>
 *   <li>float input x with m elements per sample: {@code mean} = Σx/m, {@code std} = √(Σ(x −
 *       mean)²/m), {@code min}, {@code max}, {@code zeros} = #{x = 0}/m and {@code out_of_range} =
 *       #{x &lt; q<sub>0.001</sub> ∨ x &gt; q<sub>0.999</sub>}/m, with q the quantiles of all the
 *       reference's elements of that input (p0.1, p99.9);
 *   <li>token input ({@code input_ids}, int64, with an optional {@code attention_mask} m): {@code
 *       tokens} = Σm and, when the tokenizer's unknown-token id u is given, {@code unknown_rate} =
 *       #{id = u ∧ m = 1}/Σm;
 *   <li>classifier output z ∈ ℝ<sup>C</sup> (logits): {@code class} = argmax z (categorical), with
 *       p = softmax(z) {@code confidence} = max p and {@code margin} = p<sub>(1)</sub> −
 *       p<sub>(2)</sub>;
 *   <li>embedding output (token states [batch, tokens, dim] mean-pooled over the attention mask, or
 *       [batch, dim]): {@code norm} = ‖e‖ before normalization and {@code cosine} = ê·μ̂, the
 *       cosine to μ̂, the normalized mean of the reference's normalized embeddings;
 *   <li>score output ([batch] or [batch, 1]): {@code value}.
 * </ul>
 *
 * Each feature keeps its reference mean and standard deviation, the edges of {@code bins}
 * equal-frequency bins (the reference's quantiles, NannyML's and Evidently's habit) with the
 * reference's share per bin, and a uniform sample of at most {@code sampleSize} reference values
 * for the Kolmogorov–Smirnov test and the Wasserstein distance. The profile is a JSON document,
 * schema {@value #SCHEMA}; {@link #newWindow} starts a mergeable window to compare with it.
 *
 * <pre>{@code
 * ReferenceProfile p = ReferenceProfile.builder()
 *     .model(Path.of("model.onnx"))
 *     .data(DataSpec.parse("idx:train-images-idx3-ubyte.gz?limit=1000"))
 *     .build();
 * p.write(Path.of("profile.json"));
 * }</pre>
 */
public record ReferenceProfile(
    String schema,
    String model,
    String data,
    long samples,
    Settings settings,
    List<Input> inputs,
    List<Output> outputs,
    List<Feature> features) {

  public static final String SCHEMA = "quantguard.drift-profile/1";

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  public ReferenceProfile {
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    features = List.copyOf(features);
  }

  /**
   * How the profile was built.
   *
   * @param bins equal-frequency bins per numeric feature (fewer where reference quantiles repeat)
   * @param sampleSize values kept per numeric feature, in the profile and in every window
   * @param seed seed of the samples' priorities
   * @param tokenInput the token-id input
   * @param unknownTokenId the tokenizer's unknown-token id ({@code [UNK]}), or null
   */
  public record Settings(
      int bins, int sampleSize, long seed, String tokenInput, @Nullable Long unknownTokenId) {}

  /**
   * A profiled model input.
   *
   * @param low for a float input, q<sub>0.001</sub> of the reference's elements; null for tokens
   * @param high for a float input, q<sub>0.999</sub> of the reference's elements; null for tokens
   */
  public record Input(String name, InputKind kind, @Nullable Double low, @Nullable Double high) {}

  /** How an input is summarized. */
  public enum InputKind {
    FLOAT,
    TOKENS
  }

  /**
   * A profiled model output.
   *
   * @param classes number of classes of a classifier output, else 0
   * @param referenceMean of an embedding output, μ̂ (unit length); else empty
   */
  public record Output(String name, OutputKind kind, int classes, float[] referenceMean) {}

  /** How an output is summarized; {@code IGNORE} leaves it out. */
  public enum OutputKind {
    CLASSES,
    EMBEDDING,
    SCORE,
    IGNORE
  }

  public Optional<Feature> feature(String name) {
    return features.stream().filter(f -> f.name().equals(name)).findFirst();
  }

  /** An empty window over this profile's features. */
  public DriftWindow newWindow() {
    return new DriftWindow(this);
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize the profile", e);
    }
  }

  /** Writes the profile atomically (a temporary file, then a rename). */
  public Path write(Path file) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      return AtomicFile.write(file, toJson());
    } catch (IOException e) {
      throw new InvalidInputException(
          file.toString(), "cannot be written: " + e.getMessage(), "check the directory", e);
    }
  }

  public static ReferenceProfile read(Path file) {
    try {
      return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    } catch (IOException e) {
      throw new InvalidInputException(
          file.toString(),
          "cannot be read: " + e.getMessage(),
          "give a profile written by ReferenceProfile.write",
          e);
    }
  }

  /** Parses a profile; {@code source} names it in errors. Another schema is refused. */
  public static ReferenceProfile parse(String json, String source) {
    try {
      JsonNode tree = JSON.readTree(json);
      String schema = tree == null ? "" : tree.path("schema").asText("");
      if (!schema.equals(SCHEMA)) {
        throw new InvalidInputException(
            source,
            schema.isEmpty() ? "is not a drift profile (no schema)" : "has schema " + schema,
            "give a profile with schema " + SCHEMA);
      }
      return JSON.treeToValue(tree, ReferenceProfile.class);
    } catch (JsonProcessingException e) {
      throw new InvalidInputException(
          source,
          "is not a readable drift profile: " + e.getOriginalMessage(),
          "give a profile written by ReferenceProfile.write",
          e);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Collects what a profile is built from; {@link #build} streams the data through the model. */
  public static final class Builder {
    @Nullable Path model;
    @Nullable String modelName;
    @Nullable DataSource data;
    int bins = 20;
    int sampleSize = 2048;
    long seed = 42;
    int batchSize = 64;
    String tokenInput = "input_ids";
    @Nullable Long unknownTokenId;
    final Map<String, OutputKind> outputKinds = new LinkedHashMap<>();
    SessionConfig session = SessionConfig.defaults();
    Progress progress = Progress.NONE;

    private Builder() {}

    /** The FP32 model, named in the profile by its file name. */
    public Builder model(Path file) {
      return model(file.getFileName().toString(), file);
    }

    public Builder model(String name, Path file) {
      this.model = Objects.requireNonNull(file);
      this.modelName = name;
      return this;
    }

    /** The reference data; it is read twice (see {@link #build}). */
    public Builder data(DataSource source) {
      this.data = Objects.requireNonNull(source);
      return this;
    }

    /** Equal-frequency bins per numeric feature (default 20). */
    public Builder bins(int n) {
      if (n < 2) {
        throw new InvalidInputException("bins " + n, "is fewer than 2", "use e.g. 20");
      }
      this.bins = n;
      return this;
    }

    /** Values kept per numeric feature for KS and Wasserstein (default 2,048). */
    public Builder sampleSize(int n) {
      if (n < 10) {
        throw new InvalidInputException("sample size " + n, "is below 10", "use e.g. 2048");
      }
      this.sampleSize = n;
      return this;
    }

    public Builder seed(long s) {
      this.seed = s;
      return this;
    }

    public Builder batchSize(int n) {
      if (n <= 0) {
        throw new InvalidInputException("batch size " + n, "is not positive", "use e.g. 64");
      }
      this.batchSize = n;
      return this;
    }

    /** The token-id input (default {@code input_ids}). */
    public Builder tokenInput(String name) {
      this.tokenInput = Objects.requireNonNull(name);
      return this;
    }

    /** The tokenizer's {@code [UNK]} id; without it no {@code unknown_rate} is profiled. */
    public Builder unknownTokenId(long id) {
      this.unknownTokenId = id;
      return this;
    }

    /**
     * How to summarize an output, where its shape does not say: by default [batch, tokens, dim] is
     * an embedding, [batch, C] with C ≥ 2 a classifier, [batch] or [batch, 1] a score.
     */
    public Builder output(String name, OutputKind kind) {
      outputKinds.put(name, kind);
      return this;
    }

    public Builder session(SessionConfig config) {
      this.session = Objects.requireNonNull(config);
      return this;
    }

    public Builder progress(Progress p) {
      this.progress = Objects.requireNonNull(p);
      return this;
    }

    /**
     * Reads the data twice: first for the constants features are measured against (the element
     * quantiles of float inputs, the mean embedding — running the model only for that), then for
     * the features themselves. Memory is bounded by the samples, not the data.
     */
    public ReferenceProfile build() {
      Path file = model;
      String name = modelName;
      DataSource source = data;
      if (file == null || name == null || source == null) {
        throw new InvalidInputException(
            file == null ? "model" : "data",
            "is missing",
            "give the FP32 model and its reference data");
      }
      return new Profiler(this, file, name, source).run();
    }
  }
}

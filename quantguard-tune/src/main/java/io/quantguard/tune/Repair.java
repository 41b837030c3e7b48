package io.quantguard.tune;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.quantguard.quantize.Calibrator;
import io.quantguard.quantize.Recipe;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A cheaper fix than higher precision for one sensitive node: another calibrator for its input
 * activations, per-channel or MSE-fitted weights, bias correction, SmoothQuant migration of
 * activation outliers into the weights, 16-bit activations, or dynamic int8 (the activation
 * quantized per call, so a range fitted to the calibration data cannot clip other text). Each
 * variant turns into recipe overrides for a node; the tuner measures every candidate on the node
 * alone and keeps the best. The tuning state stores the variant itself, tagged by {@code kind}.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
@JsonSubTypes({
  @JsonSubTypes.Type(value = Repair.Calibrate.class, name = "calibrator"),
  @JsonSubTypes.Type(value = Repair.PerChannelWeights.class, name = "per-channel"),
  @JsonSubTypes.Type(value = Repair.BiasCorrection.class, name = "bias-correction"),
  @JsonSubTypes.Type(value = Repair.WeightFit.class, name = "weight-fit"),
  @JsonSubTypes.Type(value = Repair.Smooth.class, name = "smooth"),
  @JsonSubTypes.Type(value = Repair.Int16.class, name = "int16"),
  @JsonSubTypes.Type(value = Repair.Dynamic.class, name = "dynamic")
})
public sealed interface Repair {
  /**
   * Repair kinds, as {@code --repairs} names them. {@code qat} is quantization-aware training of
   * the whole model ({@link TrainingRepair}), not a node repair: it has no variant here.
   */
  List<String> KINDS = List.of("calibrator", "weights", "smooth", "int16", "dynamic", "qat");

  /**
   * Int16 activations are off by default: ONNX Runtime's CPU provider has no 16-bit integer
   * kernels, so such a node runs in float between conversions, as slow as a float fallback. So is
   * quantization-aware training: it needs the training module and minutes of training.
   */
  Set<String> DEFAULT_KINDS = Set.of("calibrator", "weights", "smooth", "dynamic");

  /** Short label for logs and reports ({@code calibrator mse}, {@code smooth 0.75}). */
  @JsonIgnore
  String label();

  /**
   * What the repair adds to the recipe for {@code node}, whose float activation inputs are given.
   */
  List<Recipe.Override> overrides(String node, List<String> activationInputs);

  /** Another calibrator for the node's input activations. */
  record Calibrate(String method, @Nullable Double percentile) implements Repair {
    static Calibrate of(Calibrator c) {
      return new Calibrate(
          c.method(), c instanceof Calibrator.Percentile p ? p.percentile() : null);
    }

    @Override
    public String label() {
      return "calibrator "
          + method
          + (percentile == null
              ? ""
              : " " + String.format(Locale.ROOT, "%s", percentile).replaceAll("\\.0$", ""));
    }

    @Override
    public List<Recipe.Override> overrides(String node, List<String> inputs) {
      List<Recipe.Override> o = new ArrayList<>();
      for (String t : inputs) {
        o.add(
            Recipe.Override.tensor(t)
                .activations(
                    Recipe.Activations.builder().method(method).percentile(percentile).build())
                .because("tune: " + label()));
      }
      return o;
    }
  }

  /** Symmetric per-channel weights. */
  record PerChannelWeights() implements Repair {
    @Override
    public String label() {
      return "weights per-channel";
    }

    @Override
    public List<Recipe.Override> overrides(String node, List<String> inputs) {
      return List.of(
          Recipe.Override.node(node)
              .weights(Recipe.Weights.builder().symmetric(true).perChannel(true).build())
              .because("tune: per-channel weights"));
    }
  }

  /** Bias correction of the weights' expected output error. */
  record BiasCorrection() implements Repair {
    @Override
    public String label() {
      return "weights bias correction";
    }

    @Override
    public List<Recipe.Override> overrides(String node, List<String> inputs) {
      return List.of(
          Recipe.Override.node(node)
              .weights(Recipe.Weights.builder().biasCorrection(true).build())
              .because("tune: bias correction of the weights' expected output error"));
    }
  }

  /** Weight ranges fitted by another method. */
  record WeightFit(Recipe.WeightMethod method) implements Repair {
    @Override
    public String label() {
      return "weights " + method.spelling();
    }

    @Override
    public List<Recipe.Override> overrides(String node, List<String> inputs) {
      return List.of(
          Recipe.Override.node(node)
              .weights(Recipe.Weights.builder().method(method).build())
              .because(
                  "tune: weight ranges fitted by " + method.spelling().toUpperCase(Locale.ROOT)));
    }
  }

  /**
   * SmoothQuant migration with strength {@code alpha}, for one node or (as the tuner's whole-model
   * repair) for every MatMul/Gemm with constant weights.
   */
  record Smooth(double alpha) implements Repair {
    @Override
    public String label() {
      return "smooth " + alpha;
    }

    @Override
    public List<Recipe.Override> overrides(String node, List<String> inputs) {
      return List.of(
          Recipe.Override.node(node).smooth(alpha).because("tune: SmoothQuant α " + alpha));
    }
  }

  /** 16-bit activations. */
  record Int16() implements Repair {
    @Override
    public String label() {
      return "int16 activations";
    }

    @Override
    public List<Recipe.Override> overrides(String node, List<String> inputs) {
      List<Recipe.Override> o = new ArrayList<>();
      for (String t : inputs) {
        o.add(
            Recipe.Override.tensor(t)
                .activations(Recipe.Activations.builder().type("int16").symmetric(true).build())
                .because("tune: int16 activations"));
      }
      return o;
    }
  }

  /**
   * The node switched from static to dynamic int8: its activation is quantized per call (per
   * tensor, or per row with {@code perToken}), so no calibrated range clips it.
   */
  record Dynamic(boolean perToken) implements Repair {
    @Override
    public String label() {
      return perToken ? "dynamic int8 per token" : "dynamic int8";
    }

    @Override
    public List<Recipe.Override> overrides(String node, List<String> inputs) {
      Recipe.Override.Builder b = Recipe.Override.node(node).mode(Recipe.Mode.DYNAMIC);
      if (perToken) {
        b.activations(Recipe.Activations.builder().perToken(true).build());
      }
      return List.of(b.because("tune: " + label() + " (activation range measured per call)"));
    }
  }
}

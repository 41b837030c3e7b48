package io.quantguard.evaluate.drift;

import io.quantguard.onnx.InvalidInputException;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Which comparison decides whether a feature drifted, and where the line is. By default Evidently's
 * choice ({@code DataDriftPreset}): with a reference of at most {@code smallReference} (1,000)
 * samples, Kolmogorov–Smirnov for numeric and chi-square for categorical features (drift when p
 * &lt; {@code pValue}, 0.05); above, the normed Wasserstein distance for numeric and the
 * Jensen–Shannon distance for categorical features (drift when ≥ {@code distance}, 0.1) — tests on
 * large samples flag differences too small to matter. PSI is always reported, with its own
 * threshold {@code psi} (0.2), and can be chosen as the deciding method too. See {@link
 * DriftStatistics} for the formulas.
 *
 * @param numeric the method for numeric features, or null for the default choice
 * @param categorical the method for categorical features, or null for the default choice
 * @param epsilon the share an empty bin gets in PSI and chi-square
 */
public record DriftTests(
    long smallReference,
    double pValue,
    double distance,
    double psi,
    double epsilon,
    @Nullable Method numeric,
    @Nullable Method categorical) {

  /** The comparisons; each says which feature kinds it applies to. */
  public enum Method {
    KS(true, false),
    CHI_SQUARE(false, true),
    WASSERSTEIN(true, false),
    JENSEN_SHANNON(true, true),
    PSI(true, true);

    private final boolean numeric;
    private final boolean categorical;

    Method(boolean numeric, boolean categorical) {
      this.numeric = numeric;
      this.categorical = categorical;
    }

    /** Whether the score is a p-value (drift below the threshold) rather than a distance. */
    public boolean isTest() {
      return this == KS || this == CHI_SQUARE;
    }
  }

  public DriftTests {
    if (!(pValue > 0 && pValue < 1) || !(distance > 0) || !(psi > 0) || !(epsilon > 0)) {
      throw new InvalidInputException(
          "drift thresholds",
          "need 0 < p-value < 1 and positive distance, PSI and epsilon",
          "use e.g. p-value 0.05, distance 0.1, PSI 0.2, epsilon 0.0001");
    }
    if (numeric != null && !numeric.numeric) {
      throw notFor(
          numeric,
          "numeric",
          List.of(Method.KS, Method.WASSERSTEIN, Method.JENSEN_SHANNON, Method.PSI));
    }
    if (categorical != null && !categorical.categorical) {
      throw notFor(
          categorical,
          "categorical",
          List.of(Method.CHI_SQUARE, Method.JENSEN_SHANNON, Method.PSI));
    }
  }

  private static InvalidInputException notFor(Method m, String kind, List<Method> fit) {
    return new InvalidInputException(
        "drift method " + m, "does not apply to " + kind + " features", "use one of " + fit);
  }

  public static DriftTests defaults() {
    return new DriftTests(1000, 0.05, 0.1, 0.2, 1e-4, null, null);
  }

  public DriftTests withMethods(@Nullable Method forNumeric, @Nullable Method forCategorical) {
    return new DriftTests(
        smallReference, pValue, distance, psi, epsilon, forNumeric, forCategorical);
  }

  /** The deciding method for a feature of this kind and reference size. */
  public Method methodFor(Feature.Kind kind, long referenceSamples) {
    boolean small = referenceSamples <= smallReference;
    if (kind == Feature.Kind.NUMERIC) {
      return numeric != null ? numeric : small ? Method.KS : Method.WASSERSTEIN;
    }
    return categorical != null ? categorical : small ? Method.CHI_SQUARE : Method.JENSEN_SHANNON;
  }

  /** The threshold that applies to a method's score. */
  public double threshold(Method m) {
    return m.isTest() ? pValue : m == Method.PSI ? psi : distance;
  }
}

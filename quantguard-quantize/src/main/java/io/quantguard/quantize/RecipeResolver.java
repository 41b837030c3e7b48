package io.quantguard.quantize;

import io.quantguard.onnx.Graph;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.Node;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Applies a recipe to a concrete graph: which nodes are quantized and with what settings. The
 * recipe's strings are parsed here once, into typed settings ({@link Recipe.Mode}, {@link
 * ActivationSettings}, {@link WeightSettings}, {@link Reason}), and unknown values are errors that
 * name their key; the passes never see a string. Overrides apply in order, later ones winning.
 * Selectors that name nodes or tensors the graph does not have are errors (a typo must not silently
 * quantize what the user meant to keep in float).
 */
final class RecipeResolver {
  /** Why a node stays in float: what the passes decide by, apart from the recipe's rationale. */
  enum Reason {
    /** Its operator type is not among the recipe's {@code op_types}. */
    NOT_IN_OP_TYPES("op type not in op_types"),
    /** The recipe's {@code exclude} names it. */
    EXCLUDED("excluded by the recipe"),
    /** An override sets {@code precision: fp32}. */
    OVERRIDE_FP32("recipe keeps it in fp32");

    private final String text;

    Reason(String text) {
      this.text = text;
    }
  }

  /**
   * What the recipe says for one node.
   *
   * @param mode the node's mode (global or from an override)
   * @param reason why the node stays in float; null when it is quantized
   * @param rationale the rationale of the last override that decided about the node, or null
   * @param smooth the SmoothQuant migration strength α, or null
   */
  record NodeSettings(
      boolean quantize,
      Recipe.Mode mode,
      ActivationSettings activations,
      WeightSettings weights,
      Reason reason,
      String rationale,
      Double smooth) {

    /** These settings with the node quantized after all (a rule beyond op_types chose it). */
    NodeSettings quantizing() {
      return new NodeSettings(true, mode, activations, weights, null, rationale, smooth);
    }

    /** Why the node stays in float, for the report: an fp32 override's rationale if it has one. */
    String why() {
      return reason == Reason.OVERRIDE_FP32 && rationale != null ? rationale : reason.text;
    }
  }

  private final Recipe recipe;
  private final String source;
  private final Recipe.Mode mode;
  private final List<Selector> overrides = new ArrayList<>();
  private final List<Pattern> excluded = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private final Map<Recipe.Activations, ActivationSettings> parsedActivations = new HashMap<>();
  private final Map<Recipe.Weights, WeightSettings> parsedWeights = new HashMap<>();

  /** An override with its parsed selector pattern, mode and precision (null where not set). */
  private record Selector(
      Recipe.Override override, Pattern pattern, Recipe.Mode mode, Recipe.Precision precision) {
    boolean matches(Node n) {
      Recipe.Override o = override;
      if (o.opType() != null) {
        return n.opType().equals(o.opType());
      }
      if (o.node() != null) {
        return n.name().equals(o.node());
      }
      if (o.nodeRegex() != null) {
        return pattern.matcher(n.name()).find();
      }
      return false;
    }
  }

  RecipeResolver(Recipe resolved, Graph g, String source) {
    this.recipe = resolved;
    this.source = source;
    this.mode = parse(Recipe.Mode.class, resolved.mode(), "mode");
    validate(resolved);
    for (String ex : resolved.exclude()) {
      Pattern p =
          ex.length() > 2 && ex.startsWith("/") && ex.endsWith("/")
              ? compile(ex.substring(1, ex.length() - 1), "exclude")
              : Pattern.compile(Pattern.quote(ex) + "$");
      boolean hit =
          g.nodes().stream()
              .anyMatch(n -> ex.startsWith("/") ? p.matcher(n.name()).find() : n.name().equals(ex));
      if (!hit) {
        throw new InvalidInputException(
            source,
            "exclude names '" + ex + "', which matches no node of the model",
            "check the node name against the model's graph or remove it");
      }
      excluded.add(ex.startsWith("/") ? p : Pattern.compile("^" + Pattern.quote(ex) + "$"));
    }
    int i = 0;
    for (Recipe.Override o : resolved.overrides()) {
      int set =
          (o.opType() != null ? 1 : 0)
              + (o.node() != null ? 1 : 0)
              + (o.nodeRegex() != null ? 1 : 0)
              + (o.tensor() != null ? 1 : 0);
      if (set != 1) {
        throw new InvalidInputException(
            source,
            "overrides["
                + i
                + "] must select with exactly one of op_type, node, node_regex, tensor",
            "split it into one override per selector");
      }
      Pattern p =
          o.nodeRegex() != null ? compile(o.nodeRegex(), "overrides[" + i + "].node_regex") : null;
      Recipe.Mode m =
          o.mode() != null ? parse(Recipe.Mode.class, o.mode(), "overrides[" + i + "].mode") : null;
      Selector s = new Selector(o, p, m, precision(o.precision(), i));
      if (o.tensor() != null) {
        boolean known =
            g.nodes().stream()
                .anyMatch(n -> n.outputs().contains(o.tensor()) || n.inputs().contains(o.tensor()));
        if (!known) {
          throw new InvalidInputException(
              source,
              "overrides["
                  + i
                  + "] names tensor '"
                  + o.tensor()
                  + "', which the model does not have",
              "check the tensor name");
        }
      } else if (g.nodes().stream().noneMatch(s::matches)) {
        String what =
            o.opType() != null
                ? "op_type " + o.opType()
                : o.node() != null
                    ? "node '" + o.node() + "'"
                    : "node_regex '" + o.nodeRegex() + "'";
        if (o.opType() != null) {
          notes.add("recipe overrides[" + i + "] (" + what + ") matches no node");
        } else {
          throw new InvalidInputException(
              source,
              "overrides[" + i + "] selects " + what + ", which matches no node of the model",
              "check the name against the model's graph");
        }
      }
      if (o.smooth() != null) {
        checkSmoothSelector(o, s, g, i);
      }
      overrides.add(s);
      i++;
    }
  }

  private Recipe.Precision precision(String precision, int i) {
    if (precision == null) {
      return null;
    }
    return Spelling.find(Recipe.Precision.class, precision.toLowerCase(Locale.ROOT))
        .orElseThrow(
            () ->
                new InvalidInputException(
                    source,
                    "overrides["
                        + i
                        + "].precision '"
                        + precision
                        + "' is not one of "
                        + Spelling.all(Recipe.Precision.class),
                    "fp32 keeps the nodes in float; int8 or quantized quantizes them with the types"
                        + " under activations and weights"));
  }

  /** The constant of {@code type} that {@code text} spells, else an error naming the key. */
  private <E extends Enum<E>> E parse(Class<E> type, String text, String key) {
    try {
      return Spelling.parse(type, text);
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(source, key + " " + e.getMessage(), "write one of them", e);
    }
  }

  /**
   * A {@code smooth} override must select matrix products with a constant weight: an op_type
   * selector must name MatMul or Gemm (its activation × activation products are left alone), a node
   * or node_regex selector may select nothing else.
   */
  private void checkSmoothSelector(Recipe.Override o, Selector s, Graph g, int i) {
    String where = "overrides[" + i + "].smooth";
    if (o.tensor() != null) {
      throw new InvalidInputException(
          source,
          where + " is set on a tensor selector",
          "smoothing applies to MatMul/Gemm nodes: select them with node, node_regex or op_type");
    }
    if (o.opType() != null) {
      if (!SmoothQuant.OP_TYPES.contains(o.opType())) {
        throw new InvalidInputException(
            source,
            where + " is set for op_type " + o.opType(),
            "SmoothQuant migration applies to MatMul and Gemm only");
      }
      return;
    }
    for (Node n : g.nodes()) {
      if (s.matches(n)) {
        String why = SmoothQuant.ineligible(g, n);
        if (why != null) {
          throw new InvalidInputException(
              source,
              where + " selects node '" + n.name() + "', which " + why,
              "smooth only MatMul/Gemm nodes that multiply an activation by a constant 2-D"
                  + " weight; narrow the selector");
        }
      }
    }
  }

  private Pattern compile(String regex, String where) {
    try {
      return Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      throw new InvalidInputException(
          source,
          where + " is not a valid regular expression: " + e.getDescription(),
          "fix the pattern",
          e);
    }
  }

  /** Parses the global settings and each override's over them, so a bad value fails up front. */
  private void validate(Recipe r) {
    activations(r.activations(), "activations");
    weights(r.weights(), "weights");
    int i = 0;
    for (Recipe.Override o : r.overrides()) {
      if (o.activations() != null) {
        activations(o.activations().over(r.activations()), "overrides[" + i + "].activations");
      }
      if (o.weights() != null) {
        weights(o.weights().over(r.weights()), "overrides[" + i + "].weights");
      }
      checkSmooth(o.smooth(), "overrides[" + i + "].smooth");
      i++;
    }
    checkSmooth(r.smooth(), "smooth");
    if (r.calibration().samples() <= 0 || r.calibration().batchSize() <= 0) {
      throw new InvalidInputException(
          source, "calibration samples and batch_size must be positive", "fix the numbers");
    }
  }

  private void checkSmooth(Double alpha, String where) {
    if (alpha != null && !(alpha >= 0 && alpha <= 1)) {
      throw new InvalidInputException(
          source,
          where + " is " + alpha,
          "use a migration strength α in [0, 1] (0.5 is SmoothQuant's default), or leave it out");
    }
  }

  /** Typed activation settings of complete (resolved) ones, parsed once per distinct value. */
  private ActivationSettings activations(Recipe.Activations a, String where) {
    ActivationSettings parsed = parsedActivations.get(a);
    if (parsed == null) {
      Scheme scheme = scheme(a.type(), a.symmetric(), a.reduceRange(), where);
      Calibrator calibrator;
      try {
        calibrator = Calibrator.parse(a.method(), a.percentile());
      } catch (IllegalArgumentException e) {
        throw new InvalidInputException(
            source, where + ": " + e.getMessage(), "pick one of the listed methods", e);
      }
      parsed =
          new ActivationSettings(
              scheme, calibrator, a.percentile(), Boolean.TRUE.equals(a.perToken()));
      parsedActivations.put(a, parsed);
    }
    return parsed;
  }

  /** Typed weight settings of complete (resolved) ones, parsed once per distinct value. */
  private WeightSettings weights(Recipe.Weights w, String where) {
    WeightSettings parsed = parsedWeights.get(w);
    if (parsed == null) {
      Scheme scheme = scheme(w.type(), w.symmetric(), w.reduceRange(), where);
      int b = w.blockSize();
      if (b < 16 || (b & (b - 1)) != 0) {
        throw new InvalidInputException(
            source,
            where + ".block_size is " + b,
            "use a power of two of at least 16 (32, 64, 128)");
      }
      parsed =
          new WeightSettings(
              scheme,
              w.perChannel(),
              parse(Recipe.WeightMethod.class, w.method(), where + ".method"),
              w.percentile(),
              b,
              parse(WeightSettings.Algorithm.class, w.algorithm(), where + ".algorithm"),
              parse(WeightSettings.Format.class, w.format(), where + ".format"),
              Boolean.TRUE.equals(w.biasCorrection()));
      parsedWeights.put(w, parsed);
    }
    return parsed;
  }

  private Scheme scheme(String type, boolean symmetric, boolean reduceRange, String where) {
    try {
      return new Scheme(
          io.quantguard.onnx.DataType.parse(type.toLowerCase(Locale.ROOT)), symmetric, reduceRange);
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(
          source,
          where + ": " + e.getMessage(),
          "use int8, uint8, int16, uint16, int4 or uint4",
          e);
    }
  }

  List<String> notes() {
    return notes;
  }

  /** Whether the recipe left op_types at {@link Recipe#DEFAULT_OP_TYPES}. */
  boolean defaultOpTypes() {
    return recipe.opTypes().equals(Recipe.DEFAULT_OP_TYPES);
  }

  NodeSettings forNode(Node n) {
    boolean quantize = recipe.opTypes().contains(n.opType());
    Reason reason = quantize ? null : Reason.NOT_IN_OP_TYPES;
    String rationale = null;
    Recipe.Mode m = mode;
    boolean weightTypeSet = false;
    Recipe.Activations a = recipe.activations();
    Recipe.Weights w = recipe.weights();
    Double smooth = recipe.smooth();
    for (Selector s : overrides) {
      if (s.override.tensor() == null && s.matches(n)) {
        Recipe.Override o = s.override;
        if (s.precision != null) {
          quantize = s.precision != Recipe.Precision.FP32;
          reason = quantize ? null : Reason.OVERRIDE_FP32;
        } else if ((o.opType() == null || o.mode() != null)
            && (o.activations() != null
                || o.weights() != null
                || o.mode() != null
                || o.smooth() != null)) {
          quantize = true;
          reason = null;
        }
        if (o.smooth() != null) {
          smooth = o.smooth();
        }
        if (s.mode != null) {
          m = s.mode;
        }
        if (o.activations() != null) {
          a = o.activations().over(a);
        }
        if (o.weights() != null) {
          w = o.weights().over(w);
          weightTypeSet |= o.weights().type() != null;
        }
        rationale = o.rationale() != null ? o.rationale() : (quantize ? rationale : null);
      }
    }
    if (m == Recipe.Mode.FP16 && reason == Reason.NOT_IN_OP_TYPES) {
      // float16 converts every operator; op_types only choose what the integer modes quantize.
      quantize = true;
      reason = null;
    }
    for (Pattern p : excluded) {
      if (p.matcher(n.name()).find()) {
        quantize = false;
        reason = Reason.EXCLUDED;
      }
    }
    if (m == Recipe.Mode.WEIGHT_ONLY && !weightTypeSet && mode != Recipe.Mode.WEIGHT_ONLY) {
      // Weight-only nodes in a recipe of another mode default to int4 blocks, as weight-only
      // recipes do.
      w = Recipe.Weights.builder().type("uint4").symmetric(false).build().over(w);
    }
    String where = "the settings of node '" + n.name() + "'";
    return new NodeSettings(
        quantize,
        m,
        activations(a, where + ": activations"),
        weights(w, where + ": weights"),
        reason,
        rationale,
        smooth);
  }

  /**
   * A tensor's activation settings: its tensor overrides, in order, over {@code base} (those of the
   * node that reads it, or of the tensor it shares a scale with).
   */
  ActivationSettings forTensor(String tensor, ActivationSettings base) {
    Recipe.Activations given = null;
    for (Selector s : overrides) {
      if (tensor.equals(s.override.tensor()) && s.override.activations() != null) {
        given = s.override.activations().over(given);
      }
    }
    if (given == null) {
      return base;
    }
    Recipe.Activations under =
        Recipe.Activations.builder()
            .type(base.scheme().type().displayName())
            .symmetric(base.scheme().symmetric())
            .reduceRange(base.scheme().reduceRange())
            .method(base.calibrator().method())
            .percentile(base.percentile())
            .build();
    return activations(given.over(under), "the activations of tensor '" + tensor + "'");
  }

  /** Whether a tensor override keeps the tensor in float. */
  boolean tensorKeptFloat(String tensor) {
    for (Selector s : overrides) {
      if (tensor.equals(s.override.tensor()) && s.precision == Recipe.Precision.FP32) {
        return true;
      }
    }
    return false;
  }
}

package io.quantguard.quantize;

import io.quantguard.onnx.Graph;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.Node;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.jspecify.annotations.Nullable;

/**
 * Applies a resolved recipe to a concrete graph: which nodes are quantized and with what settings.
 * Each override's settings are laid over the global ones ({@link ResolvedRecipe}, already typed) by
 * {@link SettingsParser}, so unknown values are errors that name their key and the passes never see
 * a string ({@link Recipe.Mode}, {@link ActivationSettings}, {@link WeightSettings}, {@link
 * Reason}). Overrides apply in order, later ones winning. Selectors that name nodes or tensors the
 * graph does not have are errors (a typo must not silently quantize what the user meant to keep in
 * float).
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
      @Nullable Reason reason,
      @Nullable String rationale,
      @Nullable Double smooth) {

    /** These settings with the node quantized after all (a rule beyond op_types chose it). */
    NodeSettings quantizing() {
      return new NodeSettings(true, mode, activations, weights, null, rationale, smooth);
    }

    /** Why the node stays in float, for the report: an fp32 override's rationale if it has one. */
    String why() {
      if (reason == null) {
        return "quantized";
      }
      return reason == Reason.OVERRIDE_FP32 && rationale != null ? rationale : reason.text;
    }
  }

  private final ResolvedRecipe recipe;
  private final SettingsParser parser;
  private final String source;
  private final Recipe.Mode mode;
  private final List<Selector> overrides = new ArrayList<>();
  private final List<Pattern> excluded = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();

  /**
   * An override with its parsed selector pattern (for node_regex), mode and precision (null where
   * not set).
   */
  private record Selector(
      Recipe.Override override,
      @Nullable Pattern pattern,
      Recipe.@Nullable Mode mode,
      Recipe.@Nullable Precision precision) {
    boolean matches(Node n) {
      Recipe.Override o = override;
      if (o.opType() != null) {
        return n.opType().equals(o.opType());
      }
      if (o.node() != null) {
        return n.name().equals(o.node());
      }
      return pattern != null && pattern.matcher(n.name()).find();
    }
  }

  RecipeResolver(ResolvedRecipe resolved, Graph g) {
    this.recipe = resolved;
    this.parser = resolved.parser();
    this.source = resolved.source();
    this.mode = resolved.mode();
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
      String regex = o.nodeRegex();
      Pattern p = regex != null ? compile(regex, "overrides[" + i + "].node_regex") : null;
      String modeText = o.mode();
      Recipe.Mode m =
          modeText != null
              ? parser.parse(Recipe.Mode.class, modeText, "overrides[" + i + "].mode")
              : null;
      Selector s = new Selector(o, p, m, precision(o.precision(), i));
      String tensor = o.tensor();
      if (tensor != null) {
        boolean known =
            g.nodes().stream()
                .anyMatch(n -> n.outputs().contains(tensor) || n.inputs().contains(tensor));
        if (!known) {
          throw new InvalidInputException(
              source,
              "overrides[" + i + "] names tensor '" + tensor + "', which the model does not have",
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

  private Recipe.@Nullable Precision precision(@Nullable String precision, int i) {
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

  /**
   * A {@code smooth} override must select matrix products with a constant weight: an op_type
   * selector must name MatMul or Gemm (its activation × activation products are left alone) or a
   * fused Attention (smoothed in dynamic mode), a node or node_regex selector may select nothing
   * else.
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
      if (!SmoothQuant.OP_TYPES.contains(o.opType()) && !o.opType().equals("Attention")) {
        throw new InvalidInputException(
            source,
            where + " is set for op_type " + o.opType(),
            "SmoothQuant migration applies to MatMul and Gemm, and to fused Attention in dynamic"
                + " mode");
      }
      return;
    }
    for (Node n : g.nodes()) {
      if (s.matches(n)) {
        String why = DynamicPass.smoothIneligible(g, n);
        if (why != null) {
          throw new InvalidInputException(
              source,
              where + " selects node '" + n.name() + "', which " + why,
              "smooth only MatMul/Gemm nodes that multiply an activation by a constant 2-D"
                  + " weight, or fused Attention; narrow the selector");
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

  /** Parses each override's settings over the global ones, so a bad value fails up front. */
  private void validate(ResolvedRecipe r) {
    int i = 0;
    for (Recipe.Override o : r.overrides()) {
      parser.activations(o.activations(), r.activations(), "overrides[" + i + "].activations");
      parser.weights(o.weights(), r.weights(), "overrides[" + i + "].weights");
      parser.checkSmooth(o.smooth(), "overrides[" + i + "].smooth");
      i++;
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
    String where = "the settings of node '" + n.name() + "'";
    ActivationSettings a = recipe.activations();
    WeightSettings w = recipe.weights();
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
        a = parser.activations(o.activations(), a, where + ": activations");
        Recipe.Weights ow = o.weights();
        if (ow != null) {
          w = parser.weights(ow, w, where + ": weights");
          weightTypeSet |= ow.type() != null;
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
      w =
          parser.weights(
              Recipe.Weights.builder().type("uint4").symmetric(false).build(),
              w,
              where + ": weights");
    }
    return new NodeSettings(quantize, m, a, w, reason, rationale, smooth);
  }

  /**
   * A tensor's activation settings: its tensor overrides, in order, over {@code base} (those of the
   * node that reads it, or of the tensor it shares a scale with).
   */
  ActivationSettings forTensor(String tensor, ActivationSettings base) {
    ActivationSettings settings = base;
    for (Selector s : overrides) {
      if (tensor.equals(s.override.tensor())) {
        settings =
            parser.activations(
                s.override.activations(), settings, "the activations of tensor '" + tensor + "'");
      }
    }
    return settings;
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

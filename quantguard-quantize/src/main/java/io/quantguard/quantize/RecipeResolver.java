package io.quantguard.quantize;

import io.quantguard.onnx.Graph;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.Node;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Applies a recipe to a concrete graph: which nodes are quantized and with what settings. Overrides
 * apply in order, later ones winning. Selectors that name nodes or tensors the graph does not have
 * are errors (a typo must not silently quantize what the user meant to keep in float).
 */
final class RecipeResolver {
  /**
   * What the recipe says for one node; {@code smooth} is the SmoothQuant migration strength α, or
   * null.
   */
  record NodeSettings(
      boolean quantize,
      String mode,
      Recipe.Activations activations,
      Recipe.Weights weights,
      String rationale,
      Double smooth) {

    NodeSettings(
        boolean quantize,
        String mode,
        Recipe.Activations activations,
        Recipe.Weights weights,
        String rationale) {
      this(quantize, mode, activations, weights, rationale, null);
    }
  }

  private final Recipe recipe;
  private final String source;
  private final List<Selector> overrides = new ArrayList<>();
  private final List<Pattern> excluded = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();

  private record Selector(Recipe.Override override, Pattern pattern) {
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
            "check the node name (quantguard inspect lists the graph) or remove it");
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
      Selector s = new Selector(o, p);
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
              "check the name (quantguard inspect lists the graph)");
        }
      }
      if (o.precision() != null
          && !o.precision().equalsIgnoreCase("fp32")
          && !o.precision().equalsIgnoreCase("int8")
          && !o.precision().equalsIgnoreCase("quantized")) {
        throw new InvalidInputException(
            source,
            "overrides[" + i + "].precision is '" + o.precision() + "'",
            "use fp32 to keep nodes in float, or int8 / quantized (set types under activations/weights)");
      }
      if (o.smooth() != null) {
        checkSmoothSelector(o, s, g, i);
      }
      overrides.add(s);
      i++;
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

  private void validate(Recipe r) {
    checkMode(r.mode(), "mode");
    checkActivations(r.activations(), "activations");
    checkWeights(r.weights(), "weights");
    int i = 0;
    for (Recipe.Override o : r.overrides()) {
      if (o.mode() != null) {
        checkMode(o.mode(), "overrides[" + i + "].mode");
      }
      if (o.activations() != null) {
        checkActivations(o.activations().over(r.activations()), "overrides[" + i + "].activations");
      }
      if (o.weights() != null) {
        checkWeights(o.weights().over(r.weights()), "overrides[" + i + "].weights");
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

  private void checkMode(String mode, String where) {
    if (!Recipe.MODES.contains(mode)) {
      throw new InvalidInputException(
          source, where + " is '" + mode + "'", "use one of " + String.join(", ", Recipe.MODES));
    }
  }

  private void checkActivations(Recipe.Activations a, String where) {
    scheme(a.type(), a.symmetric(), a.reduceRange(), where);
    try {
      Calibrator.parse(a.method(), a.percentile());
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(
          source, where + ": " + e.getMessage(), "pick one of the listed methods", e);
    }
  }

  private void checkWeights(Recipe.Weights w, String where) {
    scheme(w.type(), w.symmetric(), w.reduceRange(), where);
    int b = w.blockSize();
    if (b < 16 || (b & (b - 1)) != 0) {
      throw new InvalidInputException(
          source, where + ".block_size is " + b, "use a power of two of at least 16 (32, 64, 128)");
    }
    if (!List.of("nbits", "qdq").contains(w.format())) {
      throw new InvalidInputException(
          source, where + ".format is '" + w.format() + "'", "use nbits or qdq");
    }
    if (!List.of("auto", "rtn", "awq", "gptq").contains(w.algorithm())) {
      throw new InvalidInputException(
          source, where + ".algorithm is '" + w.algorithm() + "'", "use auto, rtn, awq or gptq");
    }
    if (!List.of("minmax", "mse", "percentile").contains(w.method())) {
      throw new InvalidInputException(
          source,
          where + ".method is '" + w.method() + "'",
          "weights use minmax, mse or percentile");
    }
  }

  Scheme scheme(String type, boolean symmetric, boolean reduceRange, String where) {
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

  NodeSettings forNode(Node n) {
    boolean quantize = recipe.opTypes().contains(n.opType());
    String rationale = quantize ? null : "op type " + n.opType() + " not in op_types";
    String mode = recipe.mode();
    boolean weightTypeSet = false;
    Recipe.Activations a = recipe.activations();
    Recipe.Weights w = recipe.weights();
    Double smooth = recipe.smooth();
    for (Selector s : overrides) {
      if (s.override.tensor() == null && s.matches(n)) {
        Recipe.Override o = s.override;
        if (o.precision() != null) {
          quantize = !o.precision().equalsIgnoreCase("fp32");
        } else if (o.opType() == null || o.mode() != null) {
          quantize =
              quantize
                  || o.activations() != null
                  || o.weights() != null
                  || o.mode() != null
                  || o.smooth() != null;
        }
        if (o.smooth() != null) {
          smooth = o.smooth();
        }
        if (o.mode() != null) {
          mode = o.mode();
        }
        if (o.activations() != null) {
          a = o.activations().over(a);
        }
        if (o.weights() != null) {
          w = o.weights().over(w);
          weightTypeSet |= o.weights().type() != null;
        }
        rationale =
            o.rationale() != null
                ? o.rationale()
                : (quantize ? rationale : "recipe keeps it in fp32");
      }
    }
    if ("fp16".equals(mode) && !quantize && rationale != null && rationale.startsWith("op type")) {
      // float16 converts every operator; op_types only choose what the integer modes quantize.
      quantize = true;
      rationale = null;
    }
    for (Pattern p : excluded) {
      if (p.matcher(n.name()).find()) {
        quantize = false;
        rationale = "excluded by the recipe";
      }
    }
    if ("weight-only".equals(mode) && !weightTypeSet && !"weight-only".equals(recipe.mode())) {
      // Weight-only nodes in a recipe of another mode default to int4 blocks, as weight-only
      // recipes do.
      w = new Recipe.Weights("uint4", false, null, null, null, null, null, null, null).over(w);
    }
    return new NodeSettings(quantize, mode, a, w, rationale, smooth);
  }

  /** Tensor-level overrides on top of the consumer's activation settings. */
  Recipe.Activations forTensor(String tensor, Recipe.Activations base) {
    Recipe.Activations a = base;
    for (Selector s : overrides) {
      if (tensor.equals(s.override.tensor()) && s.override.activations() != null) {
        a = s.override.activations().over(a);
      }
    }
    return a;
  }

  /** Whether a tensor override keeps the tensor in float. */
  boolean tensorKeptFloat(String tensor) {
    for (Selector s : overrides) {
      if (tensor.equals(s.override.tensor()) && "fp32".equalsIgnoreCase(s.override.precision())) {
        return true;
      }
    }
    return false;
  }
}

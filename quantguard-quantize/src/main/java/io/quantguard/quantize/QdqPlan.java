package io.quantguard.quantize;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.Graph;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Where the static pass puts its quantizers, decided once and then fixed: which nodes run
 * quantized, which activation tensors get a QuantizeLinear/DequantizeLinear pair, which
 * initializers become integer weights (with their scheme and channel axis) and which tensors must
 * share one scale (the input and outputs of data-movement operators such as MaxPool, Reshape or
 * Transpose, and all inputs and the output of Concat). It says nothing about the scales themselves:
 * those come from an {@link ActivationRanges} source when {@link QdqRewriter} applies the plan, so
 * calibration and quantization-aware training place their quantizers from the same plan and cannot
 * disagree about where they sit.
 *
 * <p>The layout follows ONNX Runtime's QDQ conventions so its graph optimizer fuses each DQ → op →
 * Q group into an integer kernel: a ReLU or Clip between an operator and the next quantizer is
 * folded (no pair on the operator's output; the ReLU's uint8 range starting at 0 lets ONNX Runtime
 * drop it), and when the producer of a quantized tensor is itself quantized every consumer reads
 * the dequantized tensor, since the fusion needs the quantizer to be the producer's only consumer.
 *
 * <p>The plan refers to the nodes of the graph it was made on; {@link QdqRewriter} rewrites that
 * same graph.
 */
public final class QdqPlan {
  enum Role {
    ACTIVATION,
    WEIGHT,
    BIAS
  }

  /** One input of a node and what it is to the quantizer. */
  record Slot(int input, Role role, int axis) {}

  /**
   * Activation tensors that share one scale and zero point, with the settings of the first planned
   * member (its anchor), which the others take.
   */
  public static final class Group {
    private final List<String> members;
    private final ActivationSettings settings;

    Group(List<String> members, ActivationSettings settings) {
      this.members = List.copyOf(members);
      this.settings = settings;
    }

    /** The tensor whose settings the group takes: its first planned member. */
    public String anchor() {
      return members.get(0);
    }

    public List<String> members() {
      return members;
    }

    public Scheme scheme() {
      return settings.scheme();
    }

    ActivationSettings settings() {
      return settings;
    }
  }

  /**
   * One constant weight that becomes integers: the first planned node that reads it, the input it
   * is, its scheme, its channel axis (−1 per tensor) and how its range is taken. Embedding tables
   * (Gather) are not among them: {@link WeightTables} quantizes those by their own rules.
   */
  public record Weight(
      String node, String initializer, Scheme scheme, int axis, Recipe.WeightMethod method) {}

  static final Set<String> PASS_THROUGH =
      Set.of(
          "MaxPool",
          "Reshape",
          "Transpose",
          "Flatten",
          "Squeeze",
          "Unsqueeze",
          "Slice",
          "Split",
          "Identity",
          "Expand",
          "Tile",
          "DepthToSpace",
          "SpaceToDepth",
          "Resize");
  static final Set<String> FOLDED = Set.of("Relu", "Clip");

  /** Data movement that ONNX Runtime has no 4-bit kernel for (shape operators it has). */
  private static final Set<String> NO_4_BIT_KERNEL =
      Set.of("MaxPool", "DepthToSpace", "SpaceToDepth");

  private final Graph g;
  private final SmoothQuant.Result smoothing;
  private final Map<Node, RecipeResolver.NodeSettings> quantized;
  private final Set<Node> passThrough;
  private final List<String> activations;
  private final Map<String, ActivationSettings> tensorSpec;
  private final Map<String, String> groupOf;
  private final List<Group> groups;
  private final List<Weight> weights;
  private final List<QuantizationReport.Skipped> skipped;
  private final List<String> notes;
  private final Map<String, Integer> byOp;

  private QdqPlan(Planner p) {
    this.g = p.g;
    this.smoothing = p.smoothing;
    this.quantized = Collections.unmodifiableMap(new LinkedHashMap<>(p.quantized));
    this.passThrough = Collections.unmodifiableSet(new HashSet<>(p.passThrough));
    this.activations = List.copyOf(p.activations);
    this.tensorSpec = Map.copyOf(p.tensorSpec);
    Map<String, String> roots = new LinkedHashMap<>();
    Map<String, List<String>> members = new LinkedHashMap<>();
    for (String t : activations) {
      String root = p.find(t);
      roots.put(t, root);
      members.computeIfAbsent(root, k -> new ArrayList<>()).add(t);
    }
    this.groupOf = Collections.unmodifiableMap(roots);
    this.groups =
        members.values().stream()
            .map(m -> new Group(m, Objects.requireNonNull(tensorSpec.get(m.get(0)))))
            .toList();
    this.weights = weightsOf(g, quantized);
    this.skipped = List.copyOf(p.skipped);
    this.notes = List.copyOf(p.notes);
    this.byOp = Collections.unmodifiableMap(new TreeMap<>(p.byOp));
  }

  /**
   * Plans {@code g} as {@code recipe} says; {@code smoothing} is the SmoothQuant rewrite applied to
   * the graph before (its Mul nodes stay float and its smoothed tensors take their range from
   * per-channel extremes).
   */
  static QdqPlan of(Graph g, RecipeResolver recipe, SmoothQuant.Result smoothing) {
    return new Planner(g, recipe, smoothing).run();
  }

  /** The activation tensors that get a quantizer pair, in the order the pairs are inserted. */
  public List<String> activations() {
    return activations;
  }

  /** The activation tensors by the groups that share a scale, in the order of their anchors. */
  public List<Group> groups() {
    return groups;
  }

  /** The constant weights that become integers, each once, in graph order. */
  public List<Weight> weights() {
    return weights;
  }

  /**
   * Whether a planned node corrects its bias for the weights' rounding (from calibration means).
   */
  public boolean correctsBias() {
    return quantized.values().stream().anyMatch(s -> s.weights().biasCorrection());
  }

  /**
   * Whether the plan reads tensors that SmoothQuant made (they are not in the unsmoothed graph).
   */
  public boolean smooths() {
    return !smoothing.insertedNodes().isEmpty();
  }

  private static List<Weight> weightsOf(Graph g, Map<Node, RecipeResolver.NodeSettings> quantized) {
    Map<String, Weight> out = new LinkedHashMap<>();
    for (Map.Entry<Node, RecipeResolver.NodeSettings> e : quantized.entrySet()) {
      Node n = e.getKey();
      WeightSettings ws = e.getValue().weights();
      if (n.opType().equals("Gather")) {
        continue;
      }
      for (Slot sl : slots(g, n)) {
        if (sl.role() == Role.WEIGHT) {
          String w = n.input(sl.input());
          out.putIfAbsent(
              w,
              new Weight(n.name(), w, ws.scheme(), ws.perChannel() ? sl.axis() : -1, ws.method()));
        }
      }
    }
    return List.copyOf(out.values());
  }

  /**
   * The tensors calibration must observe: every planned tensor except the outputs of data-movement
   * nodes, whose values are a rearrangement or subset of their input's (already in the same group).
   * On a transformer this halves the data calibration copies out of ONNX Runtime.
   */
  Set<String> observed() {
    Set<String> out = new LinkedHashSet<>();
    for (String t : activations) {
      Optional<Node> p = g.producer(t);
      if (p.isEmpty() || !passThrough.contains(p.get())) {
        out.add(t);
      }
    }
    return out;
  }

  /**
   * The activation inputs of the planned MatMul, Gemm and Conv nodes with a constant weight (input
   * 1) whose per-channel statistics the recipe needs — those of every such node with {@code all},
   * else those of the nodes it smooths or bias-corrects — with their channel layouts.
   */
  Map<String, ChannelStatistics.Layout> channelInputs(boolean all) {
    Map<String, ChannelStatistics.Layout> out = new LinkedHashMap<>();
    for (Map.Entry<Node, RecipeResolver.NodeSettings> e : quantized.entrySet()) {
      Node n = e.getKey();
      RecipeResolver.NodeSettings s = e.getValue();
      boolean needed =
          all
              || (s.smooth() != null && SmoothQuant.OP_TYPES.contains(n.opType()))
              || s.weights().biasCorrection();
      ChannelStatistics.Layout layout = needed ? channelLayout(g, n) : null;
      if (layout != null) {
        out.merge(smoothing.source(n.input(0)), layout, ChannelStatistics.Layout::with);
      }
    }
    return out;
  }

  /** Channel count and axis of a node's activation input, or null for other nodes. */
  static ChannelStatistics.@Nullable Layout channelLayout(Graph g, Node n) {
    if (g.isInitializer(n.input(0))) {
      return null;
    }
    Optional<TensorProto> w = g.initializer(n.input(1));
    if (w.isEmpty() || w.get().getDataType() != DataType.FLOAT.code()) {
      return null;
    }
    long[] dims = TensorCodec.dims(w.get());
    return switch (n.opType()) {
      case "Conv" ->
          dims.length >= 3
              ? new ChannelStatistics.Layout(
                  (int) (dims[1] * n.intAttribute("group", 1)), ChannelStatistics.Axis.NCHW, false)
              : null;
      case "MatMul", "Gemm" ->
          SmoothQuant.ineligible(g, n) == null
              ? new ChannelStatistics.Layout(
                  SmoothQuant.inputChannels(g, n), ChannelStatistics.Axis.LAST, false)
              : null;
      default -> null;
    };
  }

  Map<Node, RecipeResolver.NodeSettings> quantized() {
    return quantized;
  }

  boolean isQuantized(Node n) {
    return quantized.containsKey(n);
  }

  boolean isPassThrough(Node n) {
    return passThrough.contains(n);
  }

  /** The group (by its root tensor, which names its scale) of a planned activation tensor. */
  String groupOf(String tensor) {
    return Objects.requireNonNull(groupOf.get(tensor), tensor);
  }

  ActivationSettings tensorSettings(String tensor) {
    return Objects.requireNonNull(tensorSpec.get(tensor), tensor);
  }

  SmoothQuant.Result smoothing() {
    return smoothing;
  }

  /** The default-domain opset the rewritten graph needs. */
  long requiredOpset() {
    boolean wide = false;
    boolean axis = false;
    // a grid narrower than its type is clipped by a Clip with bound inputs (opset 11)
    boolean clips = false;
    for (Map.Entry<Node, RecipeResolver.NodeSettings> e : quantized.entrySet()) {
      RecipeResolver.NodeSettings s = e.getValue();
      wide |= needs21(s.weights().scheme()) || needs21(s.activations().scheme());
      axis |= s.weights().perChannel();
      clips |= s.activations().scheme().narrowed();
    }
    for (ActivationSettings a : tensorSpec.values()) {
      wide |= needs21(a.scheme());
      clips |= a.scheme().narrowed();
    }
    return wide ? 21 : axis ? 13 : clips ? 11 : 10;
  }

  private static boolean needs21(Scheme scheme) {
    return scheme.type().bits() != 8;
  }

  QuantizationReport.Skipped[] skipped() {
    return skipped.toArray(new QuantizationReport.Skipped[0]);
  }

  List<String> notes() {
    return notes;
  }

  /** The planned (non-data-movement) nodes as plan steps, in graph order. */
  List<QuantizationPlan.Step> steps() {
    return quantized.keySet().stream()
        .map(n -> new QuantizationPlan.Step(n.name(), n.opType(), Recipe.Mode.STATIC, "QDQ"))
        .toList();
  }

  /** Names of the planned (non-data-movement) nodes, in graph order. */
  List<String> plannedNodes() {
    return quantized.keySet().stream().map(Node::name).toList();
  }

  /**
   * The planned nodes as units that change precision together, in graph order: a quantized Concat
   * shares one scale with every input, so it goes with the planned nodes that produce those inputs
   * (through data-movement nodes); every other planned node is a unit of its own, its weight and
   * the data-movement nodes it drags along included.
   */
  List<List<String>> plannedGroups() {
    Map<String, String> unit = new LinkedHashMap<>();
    quantized.keySet().forEach(n -> unit.put(n.name(), n.name()));
    for (Node n : quantized.keySet()) {
      if (!n.opType().equals("Concat")) {
        continue;
      }
      for (String in : n.inputs()) {
        Optional<Node> p = g.producer(in);
        while (p.isPresent() && passThrough.contains(p.get())) {
          p = g.producer(p.get().input(0));
        }
        if (p.isPresent() && unit.containsKey(p.get().name())) {
          String a = unitRoot(unit, n.name());
          String b = unitRoot(unit, p.get().name());
          if (!a.equals(b)) {
            unit.put(b, a);
          }
        }
      }
    }
    Map<String, List<String>> groups = new LinkedHashMap<>();
    for (String name : unit.keySet()) {
      groups.computeIfAbsent(unitRoot(unit, name), k -> new ArrayList<>()).add(name);
    }
    List<List<String>> ordered = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (String name : unit.keySet()) {
      String root = unitRoot(unit, name);
      if (seen.add(root)) {
        ordered.add(List.copyOf(groups.get(root)));
      }
    }
    return ordered;
  }

  private static String unitRoot(Map<String, String> unit, String name) {
    String r = name;
    while (!r.equals(unit.get(r))) {
      r = Objects.requireNonNull(unit.get(r));
    }
    return r;
  }

  Map<String, Integer> quantizedByOp() {
    return byOp;
  }

  int quantizedActivations() {
    return activations.size();
  }

  static boolean isFloat(Graph g, String tensor) {
    return !tensor.isEmpty()
        && g.typeOf(tensor).map(t -> t.elementType() == DataType.FLOAT).orElse(false);
  }

  static boolean isFloatInitializer(Graph g, String tensor) {
    return g.initializer(tensor).map(t -> t.getDataType() == DataType.FLOAT.code()).orElse(false);
  }

  /** The quantizer's view of a node's inputs; empty when the node cannot be quantized. */
  static List<Slot> slots(Graph g, Node n) {
    List<Slot> out = new ArrayList<>();
    switch (n.opType()) {
      case "Conv", "ConvTranspose" -> {
        if (!isFloatInitializer(g, n.input(1))) {
          return List.of();
        }
        long group = n.intAttribute("group", 1);
        int axis = n.opType().equals("Conv") ? 0 : (group == 1 ? 1 : -1);
        out.add(new Slot(0, Role.ACTIVATION, -1));
        out.add(new Slot(1, Role.WEIGHT, axis));
        if (!n.input(2).isEmpty() && isFloatInitializer(g, n.input(2))) {
          out.add(new Slot(2, Role.BIAS, axis >= 0 ? 0 : -1));
        }
      }
      case "Gemm" -> {
        boolean transB = n.intAttribute("transB", 0) == 1;
        out.add(
            isFloatInitializer(g, n.input(0))
                ? new Slot(0, Role.WEIGHT, -1)
                : new Slot(0, Role.ACTIVATION, -1));
        boolean bWeight = isFloatInitializer(g, n.input(1));
        out.add(
            bWeight ? new Slot(1, Role.WEIGHT, transB ? 0 : 1) : new Slot(1, Role.ACTIVATION, -1));
        boolean plain = n.floatAttribute("alpha", 1f) == 1f && n.floatAttribute("beta", 1f) == 1f;
        if (bWeight
            && plain
            && !n.input(2).isEmpty()
            && isFloatInitializer(g, n.input(2))
            && g.initializer(n.input(2)).get().getDimsCount() == 1) {
          out.add(new Slot(2, Role.BIAS, 0));
        }
      }
      case "MatMul" -> {
        for (int i = 0; i < 2; i++) {
          if (isFloatInitializer(g, n.input(i))) {
            int rank = g.initializer(n.input(i)).get().getDimsCount();
            out.add(new Slot(i, Role.WEIGHT, i == 1 && rank >= 2 ? rank - 1 : -1));
          } else {
            out.add(new Slot(i, Role.ACTIVATION, -1));
          }
        }
      }
      case "Add", "Mul" -> {
        for (int i = 0; i < 2; i++) {
          out.add(
              isFloatInitializer(g, n.input(i))
                  ? new Slot(i, Role.WEIGHT, -1)
                  : new Slot(i, Role.ACTIVATION, -1));
        }
      }
      case "Concat" -> {
        for (int i = 0; i < n.inputs().size(); i++) {
          if (g.isInitializer(n.input(i))) {
            return List.of();
          }
          out.add(new Slot(i, Role.ACTIVATION, -1));
        }
      }
      case "Gather" -> {
        if (isFloatInitializer(g, n.input(0)) && n.intAttribute("axis", 0) == 0) {
          out.add(new Slot(0, Role.WEIGHT, -1));
        }
      }
      case "AveragePool",
          "GlobalAveragePool",
          "Softmax",
          "Sigmoid",
          "LeakyRelu",
          "LayerNormalization" ->
          out.add(new Slot(0, Role.ACTIVATION, -1));
      default -> {
        return List.of();
      }
    }
    return out;
  }

  /** The planning itself: mutable state that {@link #run} turns into an immutable plan. */
  private static final class Planner {
    private final Graph g;
    private final RecipeResolver recipe;
    private final SmoothQuant.Result smoothing;
    private final Map<Node, RecipeResolver.NodeSettings> quantized = new LinkedHashMap<>();
    private final Set<Node> passThrough = new HashSet<>();
    private final LinkedHashSet<String> activations = new LinkedHashSet<>();
    private final Map<String, ActivationSettings> tensorSpec = new HashMap<>();
    private final Map<String, String> parent = new HashMap<>();
    private final List<QuantizationReport.Skipped> skipped = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final Map<String, Integer> byOp = new TreeMap<>();
    private final Map<String, Integer> notInOpTypes = new TreeMap<>();
    private int residualJoins;

    Planner(Graph g, RecipeResolver recipe, SmoothQuant.Result smoothing) {
      this.g = g;
      this.recipe = recipe;
      this.smoothing = smoothing;
      notes.addAll(recipe.notes());
    }

    QdqPlan run() {
      List<Node> order = g.topologicalOrder();
      for (Node n : order) {
        if (PASS_THROUGH.contains(n.opType()) && !n.opType().equals("Resize")) {
          continue;
        }
        if (smoothing.insertedNodes().contains(n.name())) {
          continue;
        }
        RecipeResolver.NodeSettings s = recipe.forNode(n);
        if (!s.quantize()
            && s.mode() == Recipe.Mode.STATIC
            && s.reason() == RecipeResolver.Reason.NOT_IN_OP_TYPES
            && recipe.defaultOpTypes()
            && isResidualJoin(n)) {
          s = s.quantizing();
          residualJoins++;
        }
        if (!s.quantize()) {
          if (s.mode() != Recipe.Mode.STATIC) {
            continue;
          }
          if (s.reason() == RecipeResolver.Reason.NOT_IN_OP_TYPES) {
            if (isQuantizable(n) && !slots(g, n).isEmpty()) {
              notInOpTypes.merge(n.opType(), 1, Integer::sum);
            }
          } else if (isQuantizable(n)) {
            skipped.add(new QuantizationReport.Skipped(n.name(), n.opType(), s.why()));
          }
          continue;
        }
        if (s.mode() != Recipe.Mode.STATIC) {
          continue;
        }
        if (n.opType().equals("Resize")) {
          continue;
        }
        List<Slot> slots = slots(g, n);
        if (slots.isEmpty()) {
          continue;
        }
        String problem = null;
        for (Slot sl : slots) {
          if (sl.role() == Role.ACTIVATION && recipe.tensorKeptFloat(n.input(sl.input()))) {
            problem = "input '" + n.input(sl.input()) + "' kept in fp32 by the recipe";
          } else if (sl.role() == Role.ACTIVATION && !isFloat(g, n.input(sl.input()))) {
            problem = "input '" + n.input(sl.input()) + "' is not a float tensor";
          }
        }
        if (problem != null) {
          skipped.add(new QuantizationReport.Skipped(n.name(), n.opType(), problem));
          continue;
        }
        quantized.put(n, s);
        byOp.merge(n.opType(), 1, Integer::sum);
        for (Slot sl : slots) {
          if (sl.role() == Role.ACTIVATION) {
            addActivation(n.input(sl.input()), s.activations());
          }
        }
        if (n.opType().equals("Concat")) {
          for (String in : n.inputs()) {
            union(in, n.output(0));
          }
        }
      }
      if (!notInOpTypes.isEmpty()) {
        notes.add("left in float because their op type is not in op_types: " + notInOpTypes);
      }
      if (residualJoins > 0) {
        notes.add(
            "quantized "
                + residualJoins
                + " residual Add(s) joining quantized convolutions, so the integer chain is unbroken");
      }
      List<Node> reversed = new ArrayList<>(order);
      java.util.Collections.reverse(reversed);
      for (Node n : reversed) {
        if (!PASS_THROUGH.contains(n.opType()) || quantized.containsKey(n)) {
          continue;
        }
        String in = n.input(0);
        boolean feedsQuantized = n.outputs().stream().anyMatch(activations::contains);
        if (!feedsQuantized
            || g.isInitializer(in)
            || !isFloat(g, in)
            || recipe.tensorKeptFloat(in)) {
          continue;
        }
        RecipeResolver.NodeSettings s = recipe.forNode(n);
        boolean excluded = !s.quantize() && s.reason() != RecipeResolver.Reason.NOT_IN_OP_TYPES;
        if (excluded) {
          skipped.add(new QuantizationReport.Skipped(n.name(), n.opType(), s.why()));
          continue;
        }
        String out = n.outputs().stream().filter(activations::contains).findFirst().orElseThrow();
        ActivationSettings shared = Objects.requireNonNull(tensorSpec.get(out));
        if (shared.scheme().type().bits() == 4 && NO_4_BIT_KERNEL.contains(n.opType())) {
          // ONNX Runtime's QDQ optimizer removes the DequantizeLinear/QuantizeLinear pair around
          // the operator, which leaves it a 4-bit input it has no kernel for: the model would not
          // load.
          throw InvalidInputException.forParameter(
              "activations.type",
              shared.scheme().type().displayName(),
              "cannot pass through "
                  + n.opType()
                  + " node '"
                  + n.name()
                  + "': ONNX Runtime runs it on 8-bit tensors, not 4-bit ones",
              "use 8-bit activations (weights may stay 4-bit), or keep the tensors around '"
                  + n.name()
                  + "' in float (exclude the nodes that read its output)");
        }
        passThrough.add(n);
        byOp.merge(n.opType(), 1, Integer::sum);
        addActivation(in, shared);
        for (String o : n.outputs()) {
          if (!o.isEmpty()) {
            union(in, o);
          }
        }
      }
      return new QdqPlan(this);
    }

    /**
     * A residual join of a convolutional network: an Add of two activations that both come from
     * quantized convolutions or joins (through ReLU, Clip and data movement). Left in float it cuts
     * the integer chain, and ONNX Runtime then runs the convolutions that feed it in float as well:
     * on ResNet-18, 9 of 20 convolutions ran as integer kernels and the model was 1.06× as fast as
     * FP32; with its joins quantized, all 20, 3.4× as fast, for 1.3 dB of output SQNR.
     */
    private boolean isResidualJoin(Node n) {
      if (!n.opType().equals("Add") || n.inputs().size() != 2) {
        return false;
      }
      for (String in : n.inputs()) {
        if (g.isInitializer(in) || !isFloat(g, in) || !fromQuantizedConvolution(in)) {
          return false;
        }
      }
      return true;
    }

    private boolean fromQuantizedConvolution(String tensor) {
      Optional<Node> p = g.producer(tensor);
      while (p.isPresent()
          && (PASS_THROUGH.contains(p.get().opType()) || FOLDED.contains(p.get().opType()))) {
        p = g.producer(p.get().input(0));
      }
      return p.isPresent()
          && quantized.containsKey(p.get())
          && Set.of("Conv", "ConvTranspose", "Add").contains(p.get().opType());
    }

    private boolean isQuantizable(Node n) {
      return Set.of(
              "Conv",
              "ConvTranspose",
              "Gemm",
              "MatMul",
              "Add",
              "Mul",
              "Concat",
              "AveragePool",
              "GlobalAveragePool",
              "Softmax",
              "Sigmoid",
              "LeakyRelu",
              "LayerNormalization",
              "Gather")
          .contains(n.opType());
    }

    private void addActivation(String tensor, ActivationSettings spec) {
      if (activations.add(tensor)) {
        tensorSpec.put(tensor, recipe.forTensor(tensor, spec));
        parent.putIfAbsent(tensor, tensor);
      }
    }

    private String find(String t) {
      String p = parent.computeIfAbsent(t, k -> k);
      if (!p.equals(t)) {
        p = find(p);
        parent.put(t, p);
      }
      return p;
    }

    private void union(String a, String b) {
      parent.putIfAbsent(a, a);
      parent.putIfAbsent(b, b);
      String ra = find(a);
      String rb = find(b);
      if (!ra.equals(rb)) {
        parent.put(rb, ra);
      }
    }
  }
}

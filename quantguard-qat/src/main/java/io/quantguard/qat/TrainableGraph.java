package io.quantguard.qat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.quantguard.onnx.DataType;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * An ONNX graph as DJL operations on the PyTorch engine: float initializers become parameters that
 * gradients reach, everything computable from constants alone (Constant nodes, shape arithmetic on
 * them) is evaluated once when the graph is built, and the forward pass runs the rest node by node
 * in topological order. Fake quantizers, when given, act on the weights as they are read and on the
 * activations as they are produced. The trained values go back into an ONNX model with {@link
 * #writeTo}.
 *
 * <p>Run every forward pass inside an {@link ai.djl.ndarray.NDScope}: the arrays it creates are
 * freed when the scope closes, and without it native memory grows with every step.
 */
public final class TrainableGraph implements AutoCloseable {
  private static final Map<String, Operator> OPERATORS = operators();

  private final OnnxModel model;
  private final NDManager manager;
  private final long opset;
  private final List<Node> order;
  private final Map<String, NDArray> constants;
  private final Map<String, NDArray> parameters;
  private final Map<String, NDArray> quantizedConstants;
  private final @Nullable FakeQuantization fakeQuantization;
  // learned activation step sizes (LSQ) by group anchor; empty when the ranges are frozen
  private final Map<String, NDArray> stepSizes;
  // the biases the export stores as int32 at input scale x weight scale, by bias initializer
  private final Map<String, BiasQuantizer> quantizedBiases;

  /** A bias's weight and input; the input's scale when frozen, else the learned one is read. */
  private record BiasQuantizer(String weight, String input, @Nullable NDArray frozenScale) {}

  private TrainableGraph(Builder b, OnnxModel model) {
    this.model = model;
    this.manager = NDManager.newBaseManager();
    this.opset = model.opset(OnnxModel.DEFAULT_DOMAIN);
    this.fakeQuantization = b.fakeQuantization;
    List<Node> all = model.graph().topologicalOrder();
    checkOperators(model, all);
    this.parameters = new LinkedHashMap<>();
    this.constants = new HashMap<>();
    this.quantizedConstants = new HashMap<>();
    for (Map.Entry<String, TensorProto> e : model.graph().initializers().entrySet()) {
      TensorProto t = e.getValue();
      NDArray a = Values.toArray(manager, t, model.externalData());
      a.setName(e.getKey());
      // A one-element float initializer is a constant of the computation (a LayerNorm epsilon, a
      // Pow exponent, an attention scale) that a graph cleanup turned from a Constant node into an
      // initializer, not a parameter: a Pow exponent moved off 2 turns negative bases into NaN.
      if (t.getDataType() == DataType.FLOAT.code()
          && TensorCodec.elementCount(t) > 1
          && b.trainable.test(e.getKey())) {
        a.setRequiresGradient(true);
        parameters.put(e.getKey(), a);
      } else if (fakeQuantization != null && fakeQuantization.quantizesWeight(e.getKey())) {
        quantizedConstants.put(e.getKey(), a);
      } else {
        constants.put(e.getKey(), a);
      }
    }
    this.stepSizes = new LinkedHashMap<>();
    if (fakeQuantization != null && fakeQuantization.learnsRanges()) {
      fakeQuantization
          .stepSizes()
          .forEach(
              (anchor, step) -> {
                NDArray a = manager.create(step);
                a.setRequiresGradient(true);
                stepSizes.put(anchor, a);
              });
    }
    this.quantizedBiases = new LinkedHashMap<>();
    for (Node n : all) {
      if (fakeQuantization != null
          && (n.opType().equals("Conv") || n.opType().equals("Gemm"))
          && n.inputs().size() > 2
          && model.graph().isInitializer(n.input(2))
          && fakeQuantization.quantizesWeight(n.input(1))
          && fakeQuantization.anchor(n.input(0)) != null) {
        NDArray frozen =
            fakeQuantization.learnsRanges()
                ? null
                : manager.create(
                    Objects.requireNonNull(fakeQuantization.activations().get(n.input(0)))
                        .scale()[0]);
        quantizedBiases.put(n.input(2), new BiasQuantizer(n.input(1), n.input(0), frozen));
      }
    }
    this.order = new ArrayList<>();
    for (Node n : all) {
      boolean foldable = n.inputs().stream().allMatch(i -> i.isEmpty() || constants.containsKey(i));
      if (foldable && !n.inputs().isEmpty() || n.opType().equals("Constant")) {
        NDList out = evaluate(n, constants);
        for (int i = 0; i < out.size(); i++) {
          constants.put(n.output(i), out.get(i));
        }
      } else {
        order.add(n);
      }
    }
  }

  /** Starts a graph over {@code model}, which it reads but never changes. */
  public static Builder builder(OnnxModel model) {
    return new Builder(model);
  }

  /** The ONNX operators the engine translates, in the default domain. */
  public static Set<String> supportedOperators() {
    Set<String> s = new TreeSet<>(OPERATORS.keySet());
    s.add("Constant");
    return Collections.unmodifiableSet(s);
  }

  /** The trainable parameters by initializer name. */
  public Map<String, NDArray> parameters() {
    return Collections.unmodifiableMap(parameters);
  }

  /**
   * The activation step sizes the graph learns (LSQ), by the anchor of the group that shares each;
   * empty when the quantizers' ranges are frozen.
   */
  public Map<String, NDArray> stepSizes() {
    return Collections.unmodifiableMap(stepSizes);
  }

  /**
   * The fake quantizers as trained: those the graph was built with, their activation step sizes
   * replaced by the learned ones and frozen; null without fake quantization.
   */
  public @Nullable FakeQuantization trainedQuantization() {
    if (fakeQuantization == null || stepSizes.isEmpty()) {
      return fakeQuantization;
    }
    Map<String, Float> steps = new LinkedHashMap<>();
    stepSizes.forEach(
        (anchor, a) -> {
          float step = a.getFloat();
          if (!(step > 0) || Float.isInfinite(step)) {
            throw InvalidInputException.forParameter(
                "learned step size of '" + anchor + "'",
                step,
                "is no longer a positive scale",
                "train with a lower learning rate, or keep the activation ranges frozen");
          }
          steps.put(anchor, step);
        });
    return fakeQuantization.withStepSizes(steps);
  }

  /**
   * The manager that owns parameters and folded constants; its arrays live as long as the graph.
   */
  public NDManager manager() {
    return manager;
  }

  public OnnxModel model() {
    return model;
  }

  /** Runs the graph on named inputs; returns the graph outputs by name. */
  public Map<String, NDArray> forward(Map<String, NDArray> inputs) {
    return forward(inputs, model.graph().outputNames());
  }

  /** Runs the graph and returns one named tensor (an output or an intermediate). */
  public NDArray forward(Map<String, NDArray> inputs, String tensor) {
    return Objects.requireNonNull(forward(inputs, Set.of(tensor)).get(tensor));
  }

  /** Runs the graph and returns the named tensors (outputs or intermediates). */
  public Map<String, NDArray> forward(Map<String, NDArray> inputs, Set<String> wanted) {
    Map<String, NDArray> env = new HashMap<>(constants);
    for (Map<String, NDArray> weights : List.of(parameters, quantizedConstants)) {
      for (Map.Entry<String, NDArray> p : weights.entrySet()) {
        env.put(
            p.getKey(),
            fakeQuantization == null
                ? p.getValue()
                : fakeQuantization.weight(p.getKey(), p.getValue()));
      }
    }
    if (fakeQuantization != null) {
      for (Map.Entry<String, BiasQuantizer> b : quantizedBiases.entrySet()) {
        BiasQuantizer q = b.getValue();
        NDArray raw =
            parameters.containsKey(q.weight())
                ? parameters.get(q.weight())
                : quantizedConstants.get(q.weight());
        NDArray bias = env.get(b.getKey());
        NDArray scale =
            q.frozenScale() != null
                ? q.frozenScale()
                : stepSizes.get(fakeQuantization.anchor(q.input()));
        if (raw != null && bias != null && scale != null) {
          env.put(b.getKey(), fakeQuantization.bias(q.weight(), raw, bias, scale));
        }
      }
    }
    for (Map.Entry<String, NDArray> in : inputs.entrySet()) {
      env.put(in.getKey(), activation(in.getKey(), in.getValue()));
    }
    for (Node n : order) {
      NDList out = evaluate(n, env);
      for (int i = 0; i < out.size() && i < n.outputs().size(); i++) {
        String name = n.output(i);
        if (!name.isEmpty()) {
          env.put(name, activation(name, out.get(i)));
        }
      }
    }
    Map<String, NDArray> result = new LinkedHashMap<>();
    for (String w : wanted) {
      NDArray a = env.get(w);
      if (a == null) {
        throw new InvalidInputException(
            "tensor '" + w + "'",
            "is not computed by the graph of " + model.source(),
            "name a graph output or a node output");
      }
      result.put(w, a);
    }
    return result;
  }

  private NDArray activation(String name, NDArray value) {
    if (fakeQuantization == null) {
      return value;
    }
    String anchor = fakeQuantization.anchor(name);
    return fakeQuantization.activation(name, value, anchor == null ? null : stepSizes.get(anchor));
  }

  private NDList evaluate(Node n, Map<String, NDArray> env) {
    List<@Nullable NDArray> ins = new ArrayList<>(n.inputs().size());
    for (String i : n.inputs()) {
      if (i.isEmpty()) {
        ins.add(null);
        continue;
      }
      NDArray a = env.get(i);
      if (a == null) {
        throw new InvalidInputException(
            "tensor '" + i + "'",
            "is read by node " + n.name() + " but neither fed nor computed",
            "feed every graph input: "
                + model.graph().runtimeInputs().stream().map(v -> v.getName()).toList());
      }
      ins.add(a);
    }
    OperatorCall call = new OperatorCall(n, ins, opset);
    if (n.opType().equals("Constant")) {
      return new NDList(TensorOperators.constant(manager, call));
    }
    Operator op = OPERATORS.get(n.opType());
    if (op == null) {
      throw call.unsupported("the operator is not translated");
    }
    return op.apply(call);
  }

  private static void checkOperators(OnnxModel model, List<Node> nodes) {
    Map<String, List<String>> unknown = new TreeMap<>();
    for (Node n : nodes) {
      boolean known =
          (n.domain().isEmpty() || n.domain().equals("ai.onnx"))
              && (OPERATORS.containsKey(n.opType()) || n.opType().equals("Constant"));
      if (!known) {
        String op = n.domain().isEmpty() ? n.opType() : n.domain() + "." + n.opType();
        unknown.computeIfAbsent(op, k -> new ArrayList<>()).add(n.name());
      }
    }
    if (!unknown.isEmpty()) {
      StringBuilder what = new StringBuilder();
      unknown.forEach(
          (op, names) ->
              what.append(what.length() == 0 ? "" : "; ")
                  .append(op)
                  .append(" (")
                  .append(
                      names.size() == 1
                          ? "node " + names.get(0)
                          : names.size() + " nodes, first " + names.get(0))
                  .append(')'));
      throw new InvalidInputException(
          model.source(),
          "uses operators the training engine does not translate: " + what,
          "quantization-aware training covers " + supportedOperators());
    }
  }

  /** Writes the current parameter values into {@code target}'s initializers of the same names. */
  public void writeTo(OnnxModel target) {
    for (Map.Entry<String, NDArray> p : parameters.entrySet()) {
      NDArray a = p.getValue();
      target
          .graph()
          .putInitializer(
              TensorCodec.fromFloats(p.getKey(), a.getShape().getShape(), a.toFloatArray()));
    }
  }

  @Override
  public void close() {
    manager.close();
  }

  private static Map<String, Operator> operators() {
    Map<String, Operator> ops = new HashMap<>();
    TensorOperators.register(ops);
    NetworkOperators.register(ops);
    return Map.copyOf(ops);
  }

  /** What to train and how to quantize it while training. */
  public static final class Builder {
    private final OnnxModel model;
    private Predicate<String> trainable = name -> true;
    private @Nullable FakeQuantization fakeQuantization;

    private Builder(OnnxModel model) {
      this.model = model;
    }

    /** Only these float initializers get gradients; the rest stay as they are. */
    public Builder trainable(Predicate<String> initializers) {
      this.trainable = initializers;
      return this;
    }

    /** No parameter gets a gradient: a reference (teacher) model. */
    public Builder frozen() {
      return trainable(name -> false);
    }

    /** Fake quantizers to apply in the forward pass. */
    public Builder fakeQuantization(FakeQuantization quantization) {
      this.fakeQuantization = quantization;
      return this;
    }

    public TrainableGraph build() {
      return new TrainableGraph(this, model);
    }
  }
}

package io.quantguard.onnx;

import io.quantguard.onnx.proto.Onnx.GraphProto;
import io.quantguard.onnx.proto.Onnx.NodeProto;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import io.quantguard.onnx.proto.Onnx.ValueInfoProto;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * An editable ONNX graph: nodes, initializers, inputs, outputs and value infos, with the lookups
 * graph passes need (who produces a tensor, who consumes it, the topological order) kept current as
 * nodes are added, removed or rewired. Subgraphs of control-flow nodes are carried along unchanged;
 * their references to tensors of this graph count as uses by the owning node.
 */
public final class Graph {
  private final GraphProto rest;
  private final List<Node> nodes = new ArrayList<>();
  private final LinkedHashMap<String, TensorProto> initializers = new LinkedHashMap<>();
  private final List<ValueInfoProto> inputs = new ArrayList<>();
  private final List<ValueInfoProto> outputs = new ArrayList<>();
  private final LinkedHashMap<String, ValueInfoProto> valueInfo = new LinkedHashMap<>();

  /** Producers and consumers by tensor name; null until asked for after a structural change. */
  private @Nullable Index index;

  private @Nullable Set<String> usedNames;
  private int nameCounter;

  /** Builds the editable form of a graph message. */
  public Graph(GraphProto proto) {
    for (NodeProto n : proto.getNodeList()) {
      Node node = new Node(n);
      node.attach(this);
      nodes.add(node);
    }
    for (TensorProto t : proto.getInitializerList()) {
      initializers.put(t.getName(), t);
    }
    inputs.addAll(proto.getInputList());
    outputs.addAll(proto.getOutputList());
    for (ValueInfoProto vi : proto.getValueInfoList()) {
      valueInfo.put(vi.getName(), vi);
    }
    rest =
        proto.toBuilder()
            .clearNode()
            .clearInitializer()
            .clearInput()
            .clearOutput()
            .clearValueInfo()
            .build();
  }

  public String name() {
    return rest.getName();
  }

  void structureChanged() {
    index = null;
    usedNames = null;
  }

  // ---- nodes -------------------------------------------------------------------------------

  /** The nodes in their current order (topological after {@link #sortTopologically()}). */
  public List<Node> nodes() {
    return Collections.unmodifiableList(nodes);
  }

  public Optional<Node> node(String name) {
    return nodes.stream().filter(n -> n.name().equals(name)).findFirst();
  }

  public Node addNode(Node node) {
    node.attach(this);
    nodes.add(node);
    structureChanged();
    return node;
  }

  public void removeNode(Node node) {
    if (!nodes.remove(node)) {
      throw new IllegalArgumentException("node " + node + " is not in this graph");
    }
    node.attach(null);
    structureChanged();
  }

  /** The node whose output is {@code tensor}; empty for graph inputs, initializers and unknowns. */
  public Optional<Node> producer(String tensor) {
    return Optional.ofNullable(index().producers().get(tensor));
  }

  /**
   * The nodes that read {@code tensor}, in graph order, including control-flow nodes whose
   * subgraphs read it. Graph outputs are not nodes: ask {@link #isGraphOutput}.
   */
  public List<Node> consumers(String tensor) {
    return index().consumers().getOrDefault(tensor, List.of());
  }

  private record Index(Map<String, Node> producers, Map<String, List<Node>> consumers) {}

  private Index index() {
    if (index != null) {
      return index;
    }
    Map<String, Node> prod = new HashMap<>();
    Map<String, List<Node>> cons = new HashMap<>();
    for (Node n : nodes) {
      for (String o : n.outputs()) {
        if (!o.isEmpty()) {
          prod.put(o, n);
        }
      }
      for (String i : usedTensors(n)) {
        List<Node> list = cons.computeIfAbsent(i, k -> new ArrayList<>());
        if (list.isEmpty() || list.get(list.size() - 1) != n) {
          list.add(n);
        }
      }
    }
    index = new Index(prod, cons);
    return index;
  }

  /** Explicit inputs plus the outer-scope tensors that the node's subgraphs read. */
  static Set<String> usedTensors(Node n) {
    Set<String> used = new LinkedHashSet<>();
    for (String i : n.inputs()) {
      if (!i.isEmpty()) {
        used.add(i);
      }
    }
    for (GraphProto g : n.subgraphs()) {
      collectOuterReferences(g, used);
    }
    return used;
  }

  private static void collectOuterReferences(GraphProto g, Set<String> out) {
    Set<String> defined = new HashSet<>();
    g.getInputList().forEach(v -> defined.add(v.getName()));
    g.getInitializerList().forEach(t -> defined.add(t.getName()));
    for (NodeProto n : g.getNodeList()) {
      defined.addAll(n.getOutputList());
    }
    for (NodeProto n : g.getNodeList()) {
      for (String i : n.getInputList()) {
        if (!i.isEmpty() && !defined.contains(i)) {
          out.add(i);
        }
      }
      Node inner = new Node(n);
      Set<String> nested = new LinkedHashSet<>();
      for (GraphProto sub : inner.subgraphs()) {
        collectOuterReferences(sub, nested);
      }
      for (String s : nested) {
        if (!defined.contains(s)) {
          out.add(s);
        }
      }
    }
    for (ValueInfoProto o : g.getOutputList()) {
      if (!defined.contains(o.getName())) {
        out.add(o.getName());
      }
    }
  }

  /**
   * Nodes ordered so that every node comes after the producers of its inputs; among nodes that are
   * free to go, the one that came first in the current order goes first, so an already sorted graph
   * keeps its order exactly.
   */
  public List<Node> topologicalOrder() {
    Map<String, Node> producers = index().producers();
    Map<Node, Integer> position = new IdentityHashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      position.put(nodes.get(i), i);
    }
    Map<Node, Integer> pending = new IdentityHashMap<>();
    Map<Node, List<Node>> successors = new IdentityHashMap<>();
    for (Node n : nodes) {
      Set<Node> preds = Collections.newSetFromMap(new IdentityHashMap<>());
      for (String t : usedTensors(n)) {
        Node p = producers.get(t);
        if (p != null && p != n) {
          preds.add(p);
        }
      }
      pending.put(n, preds.size());
      for (Node p : preds) {
        successors.computeIfAbsent(p, k -> new ArrayList<>()).add(n);
      }
    }
    PriorityQueue<Node> ready =
        new PriorityQueue<>(Comparator.comparingInt(n -> position.getOrDefault(n, 0)));
    for (Node n : nodes) {
      if (pending.getOrDefault(n, 0) == 0) {
        ready.add(n);
      }
    }
    List<Node> order = new ArrayList<>(nodes.size());
    while (!ready.isEmpty()) {
      Node n = ready.poll();
      order.add(n);
      for (Node s : successors.getOrDefault(n, List.of())) {
        if (pending.merge(s, -1, Integer::sum) == 0) {
          ready.add(s);
        }
      }
    }
    if (order.size() != nodes.size()) {
      List<String> stuck = new ArrayList<>();
      for (Node n : nodes) {
        if (pending.getOrDefault(n, 0) > 0) {
          stuck.add(n.toString());
          if (stuck.size() == 5) {
            break;
          }
        }
      }
      throw new IllegalStateException("graph has a cycle through " + String.join(", ", stuck));
    }
    return order;
  }

  /** Reorders the nodes into {@link #topologicalOrder()}. */
  public void sortTopologically() {
    List<Node> order = topologicalOrder();
    nodes.clear();
    nodes.addAll(order);
  }

  // ---- names -------------------------------------------------------------------------------

  /**
   * A tensor or node name based on {@code base} that no tensor, node or initializer of this graph
   * uses yet; it is reserved at once, so successive calls never collide.
   */
  public String uniqueName(String base) {
    Set<String> used = usedNames;
    if (used == null) {
      used = new HashSet<>();
      for (Node n : nodes) {
        used.add(n.name());
        used.addAll(n.inputs());
        used.addAll(n.outputs());
      }
      used.addAll(initializers.keySet());
      for (ValueInfoProto v : inputs) {
        used.add(v.getName());
      }
      for (ValueInfoProto v : outputs) {
        used.add(v.getName());
      }
      used.addAll(valueInfo.keySet());
      usedNames = used;
    }
    String candidate = base;
    while (candidate.isEmpty() || used.contains(candidate)) {
      candidate = base + "_" + (++nameCounter);
    }
    used.add(candidate);
    return candidate;
  }

  // ---- initializers ------------------------------------------------------------------------

  public Map<String, TensorProto> initializers() {
    return Collections.unmodifiableMap(initializers);
  }

  public Optional<TensorProto> initializer(String name) {
    return Optional.ofNullable(initializers.get(name));
  }

  public boolean isInitializer(String name) {
    return initializers.containsKey(name);
  }

  /** Adds or replaces an initializer (matched by name). */
  public void putInitializer(TensorProto tensor) {
    if (tensor.getName().isEmpty()) {
      throw new IllegalArgumentException("an initializer needs a name");
    }
    initializers.put(tensor.getName(), tensor);
    if (usedNames != null) {
      usedNames.add(tensor.getName());
    }
  }

  public void removeInitializer(String name) {
    initializers.remove(name);
  }

  /**
   * Drops initializers that no node, subgraph or graph output reads any more; returns their names.
   */
  public List<String> removeUnusedInitializers() {
    Map<String, List<Node>> consumers = index().consumers();
    Set<String> graphOutputs = outputNames();
    List<String> removed = new ArrayList<>();
    for (String name : new ArrayList<>(initializers.keySet())) {
      if (!consumers.containsKey(name) && !graphOutputs.contains(name)) {
        initializers.remove(name);
        removed.add(name);
      }
    }
    inputs.removeIf(v -> removed.contains(v.getName()));
    return removed;
  }

  // ---- inputs, outputs, types --------------------------------------------------------------

  /** Graph inputs as declared, including any that an initializer gives a default value. */
  public List<ValueInfoProto> inputs() {
    return Collections.unmodifiableList(inputs);
  }

  /** Inputs a caller must feed: declared inputs without an initializer. */
  public List<ValueInfoProto> runtimeInputs() {
    return inputs.stream().filter(v -> !initializers.containsKey(v.getName())).toList();
  }

  public List<ValueInfoProto> outputs() {
    return Collections.unmodifiableList(outputs);
  }

  public Set<String> outputNames() {
    Set<String> s = new LinkedHashSet<>();
    outputs.forEach(v -> s.add(v.getName()));
    return s;
  }

  public boolean isGraphOutput(String tensor) {
    return outputs.stream().anyMatch(v -> v.getName().equals(tensor));
  }

  public void addOutput(ValueInfoProto output) {
    outputs.add(output);
  }

  public Map<String, ValueInfoProto> valueInfo() {
    return Collections.unmodifiableMap(valueInfo);
  }

  public void putValueInfo(ValueInfoProto vi) {
    valueInfo.put(vi.getName(), vi);
  }

  public void removeValueInfo(String name) {
    valueInfo.remove(name);
  }

  /**
   * The element type and shape of any tensor, from graph inputs/outputs, value_info or
   * initializers; empty when nothing declares it (run the model to learn it: see the runtime
   * module).
   */
  public Optional<TensorType> typeOf(String tensor) {
    TensorProto init = initializers.get(tensor);
    if (init != null) {
      return Optional.of(TensorCodec.typeOf(init));
    }
    for (ValueInfoProto v : inputs) {
      if (v.getName().equals(tensor)) {
        return TensorType.from(v);
      }
    }
    for (ValueInfoProto v : outputs) {
      if (v.getName().equals(tensor)) {
        Optional<TensorType> t = TensorType.from(v);
        if (t.isPresent()) {
          return t;
        }
      }
    }
    ValueInfoProto vi = valueInfo.get(tensor);
    return vi == null ? Optional.empty() : TensorType.from(vi);
  }

  /** Every tensor name that a node produces, in node order. */
  public List<String> nodeOutputs() {
    List<String> out = new ArrayList<>();
    for (Node n : nodes) {
      for (String o : n.outputs()) {
        if (!o.isEmpty()) {
          out.add(o);
        }
      }
    }
    return out;
  }

  /** The graph message, nodes in their current order. */
  public GraphProto toProto() {
    GraphProto.Builder b = rest.toBuilder();
    for (Node n : nodes) {
      b.addNode(n.toProto());
    }
    b.addAllInitializer(initializers.values());
    b.addAllInput(inputs);
    b.addAllOutput(outputs);
    b.addAllValueInfo(valueInfo.values());
    return b.build();
  }
}

package io.quantguard.onnx;

import io.quantguard.onnx.proto.Onnx.AttributeProto;
import io.quantguard.onnx.proto.Onnx.GraphProto;
import io.quantguard.onnx.proto.Onnx.NodeProto;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * One operator in a {@link Graph}. Wraps the node's protobuf so that every field QuantGuard does
 * not model (doc strings, metadata, device annotations, fields from newer ONNX versions) survives
 * edits untouched. Edits go through the node so its graph can keep its producer/consumer index
 * current.
 */
public final class Node {
  private final NodeProto.Builder proto;
  private @Nullable Graph graph;

  Node(NodeProto proto) {
    this.proto = proto.toBuilder();
  }

  /** A new node; add it to a graph with {@link Graph#addNode}. */
  public static Node of(
      String opType,
      String name,
      List<String> inputs,
      List<String> outputs,
      AttributeProto... attrs) {
    NodeProto.Builder b =
        NodeProto.newBuilder()
            .setOpType(opType)
            .setName(name)
            .addAllInput(inputs)
            .addAllOutput(outputs);
    for (AttributeProto a : attrs) {
      b.addAttribute(a);
    }
    return new Node(b.build());
  }

  void attach(@Nullable Graph owner) {
    if (graph != null && owner != null && graph != owner) {
      throw new IllegalStateException("node " + name() + " already belongs to another graph");
    }
    this.graph = owner;
  }

  private void changed() {
    if (graph != null) {
      graph.structureChanged();
    }
  }

  public String name() {
    return proto.getName();
  }

  public String opType() {
    return proto.getOpType();
  }

  /** Operator set domain; empty for the default {@code ai.onnx} domain. */
  public String domain() {
    return proto.getDomain();
  }

  public Node setDomain(String domain) {
    proto.setDomain(domain);
    return this;
  }

  public Node setOpType(String opType) {
    proto.setOpType(opType);
    return this;
  }

  public Node setName(String name) {
    proto.setName(name);
    changed();
    return this;
  }

  /** Inputs in operator order; an empty string marks an omitted optional input. */
  public List<String> inputs() {
    return Collections.unmodifiableList(proto.getInputList());
  }

  public List<String> outputs() {
    return Collections.unmodifiableList(proto.getOutputList());
  }

  public String input(int index) {
    return index < proto.getInputCount() ? proto.getInput(index) : "";
  }

  public String output(int index) {
    return proto.getOutput(index);
  }

  public Node setInput(int index, String tensor) {
    while (proto.getInputCount() <= index) {
      proto.addInput("");
    }
    proto.setInput(index, tensor);
    changed();
    return this;
  }

  public Node setOutput(int index, String tensor) {
    proto.setOutput(index, tensor);
    changed();
    return this;
  }

  /** Replaces every use of {@code from} among this node's inputs; returns how many it replaced. */
  public int replaceInput(String from, String to) {
    int n = 0;
    for (int i = 0; i < proto.getInputCount(); i++) {
      if (proto.getInput(i).equals(from)) {
        proto.setInput(i, to);
        n++;
      }
    }
    if (n > 0) {
      changed();
    }
    return n;
  }

  public Optional<AttributeProto> attribute(String name) {
    for (AttributeProto a : proto.getAttributeList()) {
      if (a.getName().equals(name)) {
        return Optional.of(a);
      }
    }
    return Optional.empty();
  }

  public List<AttributeProto> attributes() {
    return Collections.unmodifiableList(proto.getAttributeList());
  }

  public long intAttribute(String name, long defaultValue) {
    return attribute(name).map(AttributeProto::getI).orElse(defaultValue);
  }

  public float floatAttribute(String name, float defaultValue) {
    return attribute(name).map(AttributeProto::getF).orElse(defaultValue);
  }

  public String stringAttribute(String name, String defaultValue) {
    return attribute(name).map(a -> a.getS().toStringUtf8()).orElse(defaultValue);
  }

  public List<Long> intsAttribute(String name) {
    return attribute(name).map(AttributeProto::getIntsList).orElse(List.of());
  }

  /** Sets or replaces an attribute. */
  public Node setAttribute(AttributeProto attribute) {
    for (int i = 0; i < proto.getAttributeCount(); i++) {
      if (proto.getAttribute(i).getName().equals(attribute.getName())) {
        proto.setAttribute(i, attribute);
        return this;
      }
    }
    proto.addAttribute(attribute);
    return this;
  }

  public Node removeAttribute(String name) {
    for (int i = 0; i < proto.getAttributeCount(); i++) {
      if (proto.getAttribute(i).getName().equals(name)) {
        proto.removeAttribute(i);
        return this;
      }
    }
    return this;
  }

  /** Subgraphs held in attributes (If branches, Loop and Scan bodies), in attribute order. */
  public List<GraphProto> subgraphs() {
    List<GraphProto> out = new ArrayList<>();
    for (AttributeProto a : proto.getAttributeList()) {
      if (a.hasG()) {
        out.add(a.getG());
      }
      out.addAll(a.getGraphsList());
    }
    return out;
  }

  public NodeProto toProto() {
    return proto.build();
  }

  @Override
  public String toString() {
    return opType() + "(" + name() + ")";
  }

  /** Attribute builders, named after the attribute kinds of the ONNX IR. */
  public static AttributeProto intAttr(String name, long value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.INT)
        .setI(value)
        .build();
  }

  public static AttributeProto tensorAttr(String name, TensorProto value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.TENSOR)
        .setT(value)
        .build();
  }
}

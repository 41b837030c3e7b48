package io.quantguard.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.proto.Onnx.AttributeProto;
import io.quantguard.onnx.proto.Onnx.GraphProto;
import io.quantguard.onnx.proto.Onnx.NodeProto;
import java.util.List;
import org.junit.jupiter.api.Test;

class GraphTest {
  /**
   * x -> Relu(a) -> t1 -> Neg(b) -> t2 ; t1,t2 -> Add(c) -> y, with the nodes stored out of order.
   */
  private static Graph diamond() {
    GraphProto g =
        GraphProto.newBuilder()
            .addNode(node("Add", "c", List.of("t1", "t2"), List.of("y")))
            .addNode(node("Neg", "b", List.of("t1"), List.of("t2")))
            .addNode(node("Relu", "a", List.of("x"), List.of("t1")))
            .addInput(TensorType.of(DataType.FLOAT, 1, 4).toValueInfo("x"))
            .addOutput(TensorType.of(DataType.FLOAT, 1, 4).toValueInfo("y"))
            .build();
    return new Graph(g);
  }

  private static NodeProto node(String op, String name, List<String> in, List<String> out) {
    return Node.of(op, name, in, out).toProto();
  }

  @Test
  void findsProducersAndConsumers() {
    Graph g = diamond();
    assertThat(g.producer("t1")).map(Node::name).contains("a");
    assertThat(g.producer("x")).isEmpty();
    assertThat(g.consumers("t1")).extracting(Node::name).containsExactly("c", "b");
    assertThat(g.isGraphOutput("y")).isTrue();
  }

  @Test
  void sortsTopologicallyAndKeepsSortedOrder() {
    Graph g = diamond();
    g.sortTopologically();
    assertThat(g.nodes()).extracting(Node::name).containsExactly("a", "b", "c");
    g.sortTopologically();
    assertThat(g.nodes()).extracting(Node::name).containsExactly("a", "b", "c");
  }

  @Test
  void keepsIndexCurrentAcrossEdits() {
    Graph g = diamond();
    Node a = g.node("a").orElseThrow();
    String mid = g.uniqueName("t1");
    assertThat(mid).isNotEqualTo("t1");
    Node id = g.addNode(Node.of("Identity", g.uniqueName("id"), List.of(mid), List.of("t1")));
    a.setOutput(0, mid);
    assertThat(g.producer("t1")).contains(id);
    assertThat(g.consumers(mid)).containsExactly(id);
    g.sortTopologically();
    assertThat(g.nodes().indexOf(id)).isLessThan(g.nodes().indexOf(g.node("b").orElseThrow()));
    g.removeNode(id);
    assertThat(g.producer("t1")).isEmpty();
  }

  @Test
  void uniqueNamesNeverRepeat() {
    Graph g = diamond();
    String n1 = g.uniqueName("q");
    String n2 = g.uniqueName("q");
    assertThat(n1).isEqualTo("q");
    assertThat(n2).isNotEqualTo(n1);
    assertThat(g.uniqueName("x")).isNotEqualTo("x");
  }

  @Test
  void detectsCycles() {
    GraphProto g =
        GraphProto.newBuilder()
            .addNode(node("Relu", "a", List.of("u"), List.of("v")))
            .addNode(node("Relu", "b", List.of("v"), List.of("u")))
            .build();
    assertThatThrownBy(() -> new Graph(g).topologicalOrder()).hasMessageContaining("cycle");
  }

  @Test
  void subgraphReadsCountAsUsesOfTheOwningNode() {
    GraphProto thenBranch =
        GraphProto.newBuilder()
            .addNode(node("Neg", "inner", List.of("outer"), List.of("r")))
            .addOutput(TensorType.of(DataType.FLOAT).toValueInfo("r"))
            .build();
    NodeProto ifNode =
        NodeProto.newBuilder()
            .setOpType("If")
            .setName("if")
            .addInput("cond")
            .addOutput("res")
            .addAttribute(
                AttributeProto.newBuilder()
                    .setName("then_branch")
                    .setType(AttributeProto.AttributeType.GRAPH)
                    .setG(thenBranch))
            .build();
    GraphProto g =
        GraphProto.newBuilder()
            .addNode(ifNode)
            .addNode(node("Relu", "mk", List.of("x"), List.of("outer")))
            .build();
    Graph graph = new Graph(g);
    assertThat(graph.consumers("outer")).extracting(Node::name).containsExactly("if");
    graph.sortTopologically();
    assertThat(graph.nodes()).extracting(Node::name).containsExactly("mk", "if");
    assertThat(graph.toProto().getNode(1).getAttribute(0).getG()).isEqualTo(thenBranch);
  }
}

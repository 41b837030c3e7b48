package io.quantguard.quantize;

import static io.quantguard.quantize.RecipeResolver.Reason.EXCLUDED;
import static io.quantguard.quantize.RecipeResolver.Reason.NOT_IN_OP_TYPES;
import static io.quantguard.quantize.RecipeResolver.Reason.OVERRIDE_FP32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.Graph;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.TensorType;
import io.quantguard.onnx.proto.Onnx.GraphProto;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What {@link RecipeResolver} makes of a recipe on a five-node graph built here: which nodes are
 * quantized, with which typed settings, why the others stay in float, and the errors that name the
 * recipe key at fault.
 *
 * <pre>
 *   x → MatMul /l1/MatMul (W1) → h → Relu /l1/Relu → r → MatMul /l2/MatMul (W2) → z
 *     → Add /l2/Add (b) → s → Softmax /out/Softmax → y
 * </pre>
 */
class RecipeResolverTest {
  private static final Graph GRAPH = tinyGraph();

  private static Graph tinyGraph() {
    float[] w = new float[16];
    for (int i = 0; i < w.length; i++) {
      w[i] = (i % 5 - 2) / 4f;
    }
    GraphProto g =
        GraphProto.newBuilder()
            .setName("tiny")
            .addInput(TensorType.of(DataType.FLOAT, 2, 4).toValueInfo("x"))
            .addOutput(TensorType.of(DataType.FLOAT, 2, 4).toValueInfo("y"))
            .addInitializer(TensorCodec.fromFloats("W1", new long[] {4, 4}, w))
            .addInitializer(TensorCodec.fromFloats("W2", new long[] {4, 4}, w))
            .addInitializer(TensorCodec.fromFloats("b", new long[] {4}, new float[4]))
            .addNode(Node.of("MatMul", "/l1/MatMul", List.of("x", "W1"), List.of("h")).toProto())
            .addNode(Node.of("Relu", "/l1/Relu", List.of("h"), List.of("r")).toProto())
            .addNode(Node.of("MatMul", "/l2/MatMul", List.of("r", "W2"), List.of("z")).toProto())
            .addNode(Node.of("Add", "/l2/Add", List.of("z", "b"), List.of("s")).toProto())
            .addNode(Node.of("Softmax", "/out/Softmax", List.of("s"), List.of("y")).toProto())
            .build();
    return new Graph(g);
  }

  private static RecipeResolver resolver(String yaml) {
    return new RecipeResolver(ResolvedRecipe.of(RecipeIO.parse(yaml, "r.yaml"), "r.yaml"), GRAPH);
  }

  private static RecipeResolver resolver(Recipe recipe) {
    return new RecipeResolver(ResolvedRecipe.of(recipe, "r.yaml"), GRAPH);
  }

  private static RecipeResolver.NodeSettings at(RecipeResolver r, String node) {
    return r.forNode(GRAPH.node(node).orElseThrow());
  }

  @Test
  void opTypesChooseTheQuantizedNodesAndTheRestSayWhy() {
    RecipeResolver r = resolver("mode: static");
    RecipeResolver.NodeSettings mm = at(r, "/l1/MatMul");
    assertThat(mm.quantize()).isTrue();
    assertThat(mm.reason()).isNull();
    assertThat(mm.mode()).isEqualTo(Recipe.Mode.STATIC);
    assertThat(mm.activations())
        .isEqualTo(
            new ActivationSettings(
                Scheme.of(DataType.UINT8, false), new Calibrator.MinMax(false), 99.999));
    assertThat(mm.weights())
        .isEqualTo(
            new WeightSettings(
                Scheme.of(DataType.INT8, true),
                true,
                Recipe.WeightMethod.MINMAX,
                99.99,
                32,
                WeightSettings.Algorithm.AUTO,
                WeightSettings.Format.NBITS,
                false));
    for (String n : List.of("/l1/Relu", "/l2/Add", "/out/Softmax")) {
      assertThat(at(r, n).quantize()).as(n).isFalse();
      assertThat(at(r, n).reason()).as(n).isEqualTo(NOT_IN_OP_TYPES);
    }
    RecipeResolver adds = resolver("op_types: [Add]");
    assertThat(at(adds, "/l2/Add").quantize()).isTrue();
    assertThat(at(adds, "/l1/MatMul").reason()).isEqualTo(NOT_IN_OP_TYPES);
  }

  @Test
  void exclusionsMatchWholeNamesOrSlashDelimitedPatterns() {
    RecipeResolver r = resolver("exclude: [/l1/MatMul, '/^/l2//']");
    assertThat(at(r, "/l1/MatMul").reason()).isEqualTo(EXCLUDED);
    assertThat(at(r, "/l1/MatMul").why()).isEqualTo("excluded by the recipe");
    assertThat(at(r, "/l2/MatMul").reason()).isEqualTo(EXCLUDED);
    assertThat(at(r, "/l2/Add").reason()).isEqualTo(EXCLUDED);
    assertThat(at(r, "/l1/Relu").reason()).isEqualTo(NOT_IN_OP_TYPES);
    // A plain name must match a whole node name.
    assertThatThrownBy(() -> resolver("exclude: [MatMul]")).hasMessageContaining("matches no node");
  }

  @Test
  void overridesApplyInOrderAndTheLaterWins() {
    RecipeResolver r =
        resolver(
            Recipe.builder()
                .overrides(
                    List.of(
                        Recipe.Override.opType("MatMul")
                            .weights(
                                Recipe.Weights.builder().method(Recipe.WeightMethod.MSE).build())
                            .because("long-tailed weights"),
                        Recipe.Override.node("/l2/MatMul")
                            .weights(
                                Recipe.Weights.builder()
                                    .method(Recipe.WeightMethod.PERCENTILE)
                                    .percentile(99.9)
                                    .build())
                            .build(),
                        Recipe.Override.nodeRegex("^/l1/")
                            .precision(Recipe.Precision.FP32)
                            .because("the first layer stays float"),
                        Recipe.Override.node("/l1/MatMul")
                            .precision(Recipe.Precision.INT8)
                            .build()))
                .build());
    RecipeResolver.NodeSettings l1 = at(r, "/l1/MatMul");
    assertThat(l1.quantize()).isTrue();
    assertThat(l1.weights().method()).isEqualTo(Recipe.WeightMethod.MSE);
    RecipeResolver.NodeSettings l2 = at(r, "/l2/MatMul");
    assertThat(l2.weights().method()).isEqualTo(Recipe.WeightMethod.PERCENTILE);
    assertThat(l2.weights().percentile()).isEqualTo(99.9);
    assertThat(l2.rationale()).isEqualTo("long-tailed weights");
    RecipeResolver.NodeSettings relu = at(r, "/l1/Relu");
    assertThat(relu.reason()).isEqualTo(OVERRIDE_FP32);
    assertThat(relu.why()).isEqualTo("the first layer stays float");
    RecipeResolver plain = resolver("overrides: [{node: /l1/MatMul, precision: fp32}]");
    assertThat(at(plain, "/l1/MatMul").why()).isEqualTo("recipe keeps it in fp32");
  }

  @Test
  void aRationaleAloneDoesNotChangeWhyANodeStaysFloat() {
    // An op_type override that only explains itself leaves the op_types decision alone...
    String explained = "overrides: [{op_type: Relu, rationale: 'ReLUs fold into the producer'}]";
    RecipeResolver.NodeSettings relu = at(resolver(explained), "/l1/Relu");
    assertThat(relu.quantize()).isFalse();
    assertThat(relu.reason()).isEqualTo(NOT_IN_OP_TYPES);
    assertThat(relu.rationale()).isEqualTo("ReLUs fold into the producer");
    // ...so float16, which converts every operator whatever op_types says, still converts it.
    RecipeResolver.NodeSettings fp16 = at(resolver("mode: fp16\n" + explained), "/l1/Relu");
    assertThat(fp16.quantize()).isTrue();
    assertThat(fp16.mode()).isEqualTo(Recipe.Mode.FP16);
    RecipeResolver kept =
        resolver("mode: fp16\noverrides: [{op_type: Relu, precision: fp32, rationale: r}]");
    assertThat(at(kept, "/l1/Relu").reason()).isEqualTo(OVERRIDE_FP32);
  }

  @Test
  void eachOverrideCanSetTheMode() {
    RecipeResolver r =
        resolver(
            """
            overrides:
              - {node: /l1/MatMul, mode: dynamic}
              - {node: /l2/MatMul, mode: weight-only}
              - {op_type: Softmax, mode: fp16}
            """);
    assertThat(at(r, "/l1/MatMul").mode()).isEqualTo(Recipe.Mode.DYNAMIC);
    assertThat(at(r, "/l1/MatMul").weights().scheme()).isEqualTo(Scheme.of(DataType.INT8, true));
    // Weight-only nodes in a recipe of another mode get weight-only's default uint4 blocks...
    assertThat(at(r, "/l2/MatMul").mode()).isEqualTo(Recipe.Mode.WEIGHT_ONLY);
    assertThat(at(r, "/l2/MatMul").weights().scheme()).isEqualTo(Scheme.of(DataType.UINT4, false));
    // ...unless the override names a type.
    RecipeResolver int8 =
        resolver("overrides: [{node: /l2/MatMul, mode: weight-only, weights: {type: int8}}]");
    assertThat(at(int8, "/l2/MatMul").weights().scheme()).isEqualTo(Scheme.of(DataType.INT8, true));
    // An op_type override with a mode quantizes nodes that op_types left out.
    assertThat(at(r, "/out/Softmax").quantize()).isTrue();
    assertThat(at(r, "/out/Softmax").mode()).isEqualTo(Recipe.Mode.FP16);
    assertThat(at(r, "/l2/Add").mode()).isEqualTo(Recipe.Mode.STATIC);
  }

  @Test
  void tensorOverridesLayTheirActivationSettingsOverTheReader() {
    RecipeResolver r =
        resolver(
            """
            activations: {percentile: 99.9}
            overrides:
              - {tensor: r, activations: {method: entropy, type: int8}}
              - {tensor: r, activations: {type: int16, symmetric: true}}
              - {tensor: z, activations: {method: percentile}}
              - {tensor: h, precision: fp32}
            """);
    ActivationSettings reader = at(r, "/l2/MatMul").activations();
    ActivationSettings onR = r.forTensor("r", reader);
    assertThat(onR.calibrator()).isEqualTo(new Calibrator.Entropy());
    assertThat(onR.scheme()).isEqualTo(Scheme.of(DataType.INT16, true));
    // A method without its percentile takes the one the recipe gives where the tensor is read.
    assertThat(r.forTensor("z", reader).calibrator()).isEqualTo(new Calibrator.Percentile(99.9));
    assertThat(r.forTensor("x", reader)).isSameAs(reader);
    assertThat(r.tensorKeptFloat("h")).isTrue();
    assertThat(r.tensorKeptFloat("r")).isFalse();
  }

  @Test
  void selectorsThatMatchNothingAreErrorsExceptOpTypes() {
    assertThatThrownBy(() -> resolver("exclude: [/l3/MatMul]"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("exclude names '/l3/MatMul', which matches no node");
    assertThatThrownBy(() -> resolver("exclude: ['/^l3/']"))
        .hasMessageContaining("matches no node");
    assertThatThrownBy(() -> resolver("overrides: [{node_regex: '^/l3/', precision: fp32}]"))
        .hasMessageContaining("overrides[0] selects node_regex '^/l3/', which matches no node");
    assertThatThrownBy(() -> resolver("overrides: [{tensor: q, precision: fp32}]"))
        .hasMessageContaining("overrides[0] names tensor 'q'");
    assertThatThrownBy(() -> resolver("overrides: [{node: /l1/Relu, op_type: Relu}]"))
        .hasMessageContaining("exactly one of op_type, node, node_regex, tensor");
    assertThat(resolver("overrides: [{op_type: Conv, precision: fp32}]").notes())
        .containsExactly("recipe overrides[0] (op_type Conv) matches no node");
  }

  @Test
  void unknownValuesNameTheirKeyAndTheValidOnes() {
    assertThatThrownBy(() -> resolver("mode: turbo"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith(
            "r.yaml: mode 'turbo' is not one of static, dynamic, weight-only, fp16");
    assertThatThrownBy(() -> resolver("overrides: [{node: /l1/MatMul, mode: int4}]"))
        .hasMessageContaining("overrides[0].mode 'int4' is not one of static");
    assertThatThrownBy(() -> resolver("weights: {method: entropy}"))
        .hasMessageContaining("weights.method 'entropy' is not one of minmax, mse, percentile");
    assertThatThrownBy(() -> resolver("weights: {algorithm: magic}"))
        .hasMessageContaining("weights.algorithm 'magic' is not one of auto, rtn, awq, gptq");
    assertThatThrownBy(() -> resolver("overrides: [{op_type: MatMul, weights: {format: packed}}]"))
        .hasMessageContaining("overrides[0].weights.format 'packed' is not one of nbits, qdq");
    assertThatThrownBy(() -> resolver("overrides: [{node: /l1/MatMul, precision: fp8}]"))
        .hasMessageContaining("overrides[0].precision 'fp8' is not one of fp32, int8, quantized");
    assertThatThrownBy(() -> resolver("activations: {method: magic}"))
        .hasMessageContaining("activations: unknown calibration method 'magic'");
    assertThatThrownBy(() -> resolver("activations: {type: int3}"))
        .hasMessageContaining("activations: unknown ONNX element type 'int3'");
    assertThatThrownBy(() -> RecipeIO.parse("overrides: [{nodes: /l1/MatMul}]", "r.yaml"))
        .hasMessageContaining("unknown recipe key 'nodes' at overrides[0]")
        .hasMessageContaining("node_regex");
  }

  @Test
  void smoothMustSelectMatrixProductsWithAConstantWeight() {
    assertThat(at(resolver("smooth: 0.5"), "/l2/MatMul").smooth()).isEqualTo(0.5);
    assertThat(at(resolver("overrides: [{node: /l2/MatMul, smooth: 0.75}]"), "/l2/MatMul").smooth())
        .isEqualTo(0.75);
    assertThatThrownBy(() -> resolver("overrides: [{node_regex: '^/l2/', smooth: 0.5}]"))
        .hasMessageContaining("overrides[0].smooth selects node '/l2/Add'");
    assertThatThrownBy(() -> resolver("smooth: 1.5")).hasMessageContaining("smooth is 1.5");
  }
}

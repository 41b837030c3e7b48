package io.quantguard.quantize;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TechnicalEnglish;
import io.quantguard.onnx.TestModels;
import io.quantguard.onnx.TinyGraph;
import io.quantguard.runtime.SentenceEmbeddings;
import io.quantguard.runtime.SessionConfig;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code optimize: transformer} on all-MiniLM-L6-v2: after ONNX Runtime's optimizer (which finds no
 * Attention in it), each of the six self-attention blocks becomes one com.microsoft.Attention and
 * each residual join one SkipLayerNormalization, and the outputs match FP32 to float rounding, on
 * Europarl and on technical English; dynamic mode turns them into QAttention.
 */
class AttentionFusionTest {
  @TempDir Path tmp;

  private static final String EUROPARL =
      "text:europarl?tokenizer=minilm-tokenizer&column=3&max_length=128&offset=500&limit=";

  private static Map<String, Long> ops(OnnxModel m) {
    return m.graph().nodes().stream()
        .collect(Collectors.groupingBy(Node::opType, Collectors.counting()));
  }

  @Test
  void fusesTheSixSelfAttentionBlocksOfMiniLmWithoutChangingItsOutputs() throws Exception {
    OnnxModel work = ModelIO.load(TestModels.miniLm());
    GraphCleanup.constantsToInitializers(work.graph());
    OnnxModel ortOnly =
        RuntimeFusion.apply(
            work.copy(),
            Recipe.builder().optimize("onnxruntime").build(),
            SessionConfig.defaults());
    OnnxModel fused =
        RuntimeFusion.apply(
            work, Recipe.builder().optimize("transformer").build(), SessionConfig.defaults());

    Map<String, Long> before = ops(ortOnly);
    Map<String, Long> after = ops(fused);
    assertThat(before).doesNotContainKey("Attention").containsEntry("Softmax", 6L);
    assertThat(after)
        .containsEntry("Attention", 6L)
        .containsEntry("SkipLayerNormalization", 12L)
        .containsEntry("LayerNormalization", 1L)
        .doesNotContainKeys("Softmax", "FusedMatMul", "Transpose");
    // Per block: three projections (MatMul, Add, Reshape, Transpose), the scores, the mask Add,
    // Softmax, the product with the values and the Transpose and Reshape back; the two residual
    // joins (bias Add, Add, LayerNormalization) become SkipLayerNormalization (the embeddings'
    // LayerNormalization has no projection before it and stays).
    assertThat(after.get("MatMul")).isEqualTo(before.get("MatMul") - 6 * 4);
    assertThat(fused.metadata())
        .containsEntry(
            RuntimeFusion.METADATA_KEY,
            RuntimeFusion.statement(RuntimeFusion.Optimizer.TRANSFORMER));
    Node a =
        fused.graph().nodes().stream()
            .filter(n -> n.opType().equals("Attention"))
            .findFirst()
            .orElseThrow();
    assertThat(a.intAttribute("num_heads", 0)).isEqualTo(12);

    Path out = tmp.resolve("minilm-attention.onnx");
    ModelIO.save(fused, out);
    Path technical = TechnicalEnglish.write(tmp.resolve("technical.txt"), 64);
    for (String data : new String[] {EUROPARL + 64, TechnicalEnglish.miniLmData(technical)}) {
      double worst = worstCosine(TestModels.miniLm(), out, data);
      System.out.printf("MiniLM, fused Attention vs FP32 on %s: worst cosine %.7f%n", data, worst);
      assertThat(worst).isGreaterThan(0.99999);
    }
  }

  @Test
  void dynamicModeQuantizesTheFusedAttentionAsQAttention() throws Exception {
    Recipe recipe =
        RecipeIO.parse(
            "mode: dynamic\noptimize: transformer\nop_types: [MatMul, Gather, Attention]\n"
                + "activations: {per_token: true}",
            "test recipe");
    QuantizationResult r =
        Quantizer.quantize(
            ModelIO.load(TestModels.miniLm()), recipe, null, Quantizer.Options.defaults());
    Map<String, Long> ops = ops(r.model());
    assertThat(ops).containsEntry("QAttention", 6L).doesNotContainKey("Attention");
    assertThat(r.report().quantizedNodesByOp())
        .containsEntry("Attention", 6)
        .containsEntry("MatMul", 18);
    Path out = tmp.resolve("minilm-qattention.onnx");
    ModelIO.save(r.model(), out);
    double cosine = SentenceEmbeddings.meanCosine(TestModels.miniLm(), out, EUROPARL + 300);
    System.out.printf("MiniLM, QAttention + per-token dynamic int8: mean cosine %.5f%n", cosine);
    assertThat(cosine).isGreaterThan(0.994);
  }

  @Test
  void aSoftmaxOutsideSelfAttentionIsLeftAlone() {
    OnnxModel m =
        TinyGraph.input("x", -1, 2)
            .matMul("a", new float[][] {{0.5f, -1.0f}, {-0.2f, 0.8f}})
            .softmax("s")
            .output("y")
            .model();
    assertThat(AttentionFusion.apply(m)).isZero();
    assertThat(m.graph().nodes()).extracting(Node::opType).containsExactly("MatMul", "Softmax");
  }

  private static double worstCosine(Path baseline, Path candidate, String data) {
    return Arrays.stream(SentenceEmbeddings.cosines(baseline, candidate, data, 16))
        .min()
        .orElseThrow();
  }
}

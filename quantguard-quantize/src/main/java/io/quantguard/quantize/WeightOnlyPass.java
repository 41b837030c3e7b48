package io.quantguard.quantize;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.Graph;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Weight-only block quantization: activations stay float, each constant MatMul/Gemm weight is
 * stored in 4-bit blocks along the reduction axis and consumed by ONNX Runtime's {@code
 * com.microsoft. MatMulNBits} (Y = A · dequant(B)ᵀ with B packed as [N, blocks, block/2]), the
 * following bias Add folded in; embedding tables go through {@link WeightTables}. The model shrinks
 * by about 7× where the weights are, and MatMulNBits computes with int8 activations on CPUs with
 * VNNI (accuracy level 4).
 */
final class WeightOnlyPass {
  private final OnnxModel model;
  private final Graph g;
  private final RecipeResolver recipe;
  private final WeightTables tables;
  private final Map<String, Integer> byOp = new TreeMap<>();
  private final List<QuantizationReport.Skipped> skipped = new ArrayList<>();
  private int weights;

  WeightOnlyPass(OnnxModel model, RecipeResolver recipe, WeightTables tables) {
    this.model = model;
    this.g = model.graph();
    this.recipe = recipe;
    this.tables = tables;
  }

  void run() {
    for (Node n : new ArrayList<>(g.topologicalOrder())) {
      RecipeResolver.NodeSettings s = recipe.forNode(n);
      if (!s.quantize() || !"weight-only".equals(s.mode())) {
        continue;
      }
      if (n.opType().equals("MatMul") || n.opType().equals("Gemm")) {
        String why = rewrite(n, s.weights());
        if (why != null) {
          skipped.add(new QuantizationReport.Skipped(n.name(), n.opType(), why));
        }
      } else if (n.opType().equals("Gather") && tables.quantize(n, s.weights())) {
        byOp.merge("Gather", 1, Integer::sum);
        weights++;
      }
    }
    g.removeUnusedInitializers();
  }

  Map<String, Integer> quantizedByOp() {
    return byOp;
  }

  List<QuantizationReport.Skipped> skipped() {
    return skipped;
  }

  int quantizedWeights() {
    return weights;
  }

  private String rewrite(Node n, Recipe.Weights ws) {
    boolean gemm = n.opType().equals("Gemm");
    Optional<TensorProto> bt = g.initializer(n.input(1));
    if (bt.isEmpty()
        || bt.get().getDataType() != DataType.FLOAT.code()
        || bt.get().getDimsCount() != 2) {
      return "second input is not a constant float matrix";
    }
    if (gemm
        && (n.intAttribute("transA", 0) != 0
            || n.floatAttribute("alpha", 1f) != 1f
            || n.floatAttribute("beta", 1f) != 1f)) {
      return "Gemm with transA, alpha or beta other than the defaults";
    }
    Scheme scheme = recipe.scheme(ws.type(), ws.symmetric(), ws.reduceRange(), "weights");
    if (scheme.type().bits() != 4) {
      return "weight-only blocks are 4-bit (int4 or uint4), not " + scheme.type().displayName();
    }
    long[] dims = TensorCodec.dims(bt.get());
    float[] w = model.floats(n.input(1));
    boolean transposed = gemm && n.intAttribute("transB", 0) == 1;
    int k = (int) (transposed ? dims[1] : dims[0]);
    int cols = (int) (transposed ? dims[0] : dims[1]);
    float[] nk = transposed ? w : transpose(w, k, cols);
    BlockQuantization bq = BlockQuantization.of(nk, cols, k, ws.blockSize(), scheme, ws.method());
    String base = n.input(1);
    String packed = g.uniqueName(base + "_nbits");
    String scales = g.uniqueName(base + "_block_scale");
    g.putInitializer(
        TensorCodec.fromRaw(
            packed,
            DataType.UINT8,
            new long[] {cols, bq.blocks(), ws.blockSize() / 2},
            bq.packedUnsigned4()));
    g.putInitializer(
        TensorCodec.fromFloats(scales, new long[] {(long) cols * bq.blocks()}, bq.scales()));
    List<String> inputs = new ArrayList<>(List.of(n.input(0), packed, scales));
    if (!scheme.type().isSigned()) {
      String zps = g.uniqueName(base + "_block_zero_point");
      byte[] z = bq.packedZeroPoints4();
      g.putInitializer(TensorCodec.fromRaw(zps, DataType.UINT8, new long[] {z.length}, z));
      inputs.add(zps);
    }
    String output = n.output(0);
    String bias = gemm ? n.input(2) : "";
    Node absorbed = null;
    if (!gemm) {
      absorbed = BiasFolding.foldableAdd(g, output, cols);
      if (absorbed != null) {
        bias = absorbed.input(0).equals(output) ? absorbed.input(1) : absorbed.input(0);
        output = absorbed.output(0);
      }
    } else if (!bias.isEmpty()) {
      Optional<TensorProto> c = g.initializer(bias);
      if (c.isEmpty() || c.get().getDimsCount() != 1 || c.get().getDims(0) != cols) {
        return "Gemm bias is not a constant vector of " + cols;
      }
    }
    if (!bias.isEmpty()) {
      while (inputs.size() < 5) {
        inputs.add("");
      }
      inputs.add(bias);
    }
    Node nbits = Node.of("MatMulNBits", n.name(), inputs, List.of(output));
    nbits.setDomain(OnnxModel.MICROSOFT_DOMAIN);
    nbits.setAttribute(Node.intAttr("K", k));
    nbits.setAttribute(Node.intAttr("N", cols));
    nbits.setAttribute(Node.intAttr("bits", 4));
    nbits.setAttribute(Node.intAttr("block_size", ws.blockSize()));
    nbits.setAttribute(Node.intAttr("accuracy_level", 4));
    g.removeNode(n);
    if (absorbed != null) {
      g.removeNode(absorbed);
    }
    g.addNode(nbits);
    byOp.merge(n.opType(), 1, Integer::sum);
    weights++;
    return null;
  }

  static float[] transpose(float[] w, int rows, int cols) {
    float[] t = new float[w.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        t[c * rows + r] = w[r * cols + c];
      }
    }
    return t;
  }
}

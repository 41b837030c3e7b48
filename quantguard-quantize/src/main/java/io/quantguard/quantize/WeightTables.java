package io.quantguard.quantize;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.Graph;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import java.util.List;
import java.util.Optional;

/**
 * Embedding tables (constant data of a Gather along axis 0) stored as integers, with only the
 * gathered rows dequantized at run time — never the whole table. In a sentence-embedding model the
 * word table is half of the bytes, so it has to shrink with the rest.
 *
 * <ul>
 *   <li>8-bit, per-channel symmetric: one scale per row (rare tokens with small embeddings keep
 *       their precision); Gather the integer rows and their scales, Cast, multiply.
 *   <li>8-bit otherwise: one scale; Gather on the integers, then DequantizeLinear.
 *   <li>4-bit: blocks along the row with one scale each, through ONNX Runtime's {@code
 *       com.microsoft.GatherBlockQuantized} on int4 data.
 * </ul>
 */
final class WeightTables {
  private final OnnxModel model;
  private final Graph g;

  WeightTables(OnnxModel model) {
    this.model = model;
    this.g = model.graph();
  }

  /** Rewrites the Gather if it reads a float table; returns whether it did. */
  boolean quantize(Node n, WeightSettings ws) {
    String w = n.input(0);
    Optional<TensorProto> t = g.initializer(w);
    if (t.isEmpty()
        || t.get().getDataType() != DataType.FLOAT.code()
        || n.intAttribute("axis", 0) != 0) {
      return false;
    }
    long[] dims = TensorCodec.dims(t.get());
    Scheme scheme = ws.scheme();
    if (scheme.type().bits() == 4) {
      return dims.length == 2 && blockwise(n, ws, scheme, dims);
    }
    float[] values = model.floats(w);
    boolean perRow =
        ws.perChannel() && scheme.symmetric() && scheme.type().isSigned() && dims.length == 2;
    int axis = perRow ? 0 : -1;
    QuantParams p =
        scheme.params(
            WeightRanges.of(values, dims, axis, scheme, ws.method(), ws.percentile()), axis);
    String q = g.uniqueName(w + "_quantized");
    g.putInitializer(TensorCodec.fromInts(q, p.scheme().type(), dims, p.quantize(values, dims)));
    String out = n.output(0);
    String gathered = g.uniqueName(out + "_quantized");
    n.setInput(0, q);
    n.setOutput(0, gathered);
    if (perRow) {
      String rowScales = g.uniqueName(w + "_row_scale");
      g.putInitializer(TensorCodec.fromFloats(rowScales, new long[] {dims[0], 1}, p.scale()));
      String scaleRows = g.uniqueName(out + "_scale");
      String asFloat = g.uniqueName(out + "_float");
      g.addNode(
          Node.of(
              "Gather",
              g.uniqueName(out + "_GatherScale"),
              List.of(rowScales, n.input(1)),
              List.of(scaleRows)));
      g.addNode(
          Node.of(
              "Cast",
              g.uniqueName(out + "_Cast"),
              List.of(gathered),
              List.of(asFloat),
              Node.intAttr("to", DataType.FLOAT.code())));
      g.addNode(
          Node.of(
              "Mul", g.uniqueName(out + "_Dequantize"), List.of(asFloat, scaleRows), List.of(out)));
    } else {
      String s = g.uniqueName(w + "_scale");
      String z = g.uniqueName(w + "_zero_point");
      long[] none = new long[0];
      g.putInitializer(TensorCodec.fromFloats(s, none, p.scale()));
      g.putInitializer(TensorCodec.fromInts(z, p.scheme().type(), none, p.zeroPoint()));
      g.addNode(
          Node.of(
              "DequantizeLinear",
              g.uniqueName(out + "_DequantizeLinear"),
              List.of(gathered, s, z),
              List.of(out)));
    }
    return true;
  }

  private boolean blockwise(Node n, WeightSettings ws, Scheme scheme, long[] dims) {
    int rows = (int) dims[0];
    int cols = (int) dims[1];
    int block = ws.blockSize();
    int blocks = (cols + block - 1) / block;
    float[] values = model.floats(n.input(0));
    BlockQuantization bq = BlockQuantization.of(values, rows, cols, block, scheme, ws.method());
    String w = n.input(0);
    String q = g.uniqueName(w + "_" + scheme.type().displayName());
    String s = g.uniqueName(w + "_block_scale");
    g.putInitializer(TensorCodec.fromInts(q, scheme.type(), dims, bq.codesRowMajor()));
    g.putInitializer(TensorCodec.fromFloats(s, new long[] {rows, blocks}, bq.scales()));
    List<String> inputs = new java.util.ArrayList<>(List.of(q, n.input(1), s));
    if (!scheme.symmetric()) {
      String z = g.uniqueName(w + "_block_zero_point");
      g.putInitializer(
          TensorCodec.fromInts(z, scheme.type(), new long[] {rows, blocks}, bq.zeroPoints()));
      inputs.add(z);
    }
    Node gbq = Node.of("GatherBlockQuantized", n.name(), inputs, List.of(n.output(0)));
    gbq.setDomain(OnnxModel.MICROSOFT_DOMAIN);
    gbq.setAttribute(Node.intAttr("gather_axis", 0));
    gbq.setAttribute(Node.intAttr("quantize_axis", 1));
    gbq.setAttribute(Node.intAttr("block_size", block));
    g.removeNode(n);
    g.addNode(gbq);
    return true;
  }
}

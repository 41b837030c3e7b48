package io.quantguard.quantize;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.Graph;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.TensorType;
import io.quantguard.onnx.proto.Onnx.AttributeProto;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * BERT self-attention as one {@code com.microsoft.Attention} node, where ONNX Runtime's own fusion
 * does not match (it misses all-MiniLM-L6-v2 as exported by Hugging Face): the query, key and value
 * projections (MatMul by a constant, Add a constant bias, Reshape to heads, Transpose), the scores
 * (MatMul, or ONNX Runtime's FusedMatMul with its scale, or MatMul then Div/Mul by a constant), the
 * additive mask made from the 0/1 {@code attention_mask} input, Softmax, the product with the
 * values and the Transpose and Reshape back. The three weights are packed into one matrix [hidden,
 * 3·hidden] and the biases into one vector, so one kernel computes the projections and the
 * attention without the intermediate transposes; dynamic mode then quantizes it as {@code
 * QAttention}. Only ONNX Runtime runs the result.
 */
final class AttentionFusion {
  private final OnnxModel model;
  private final Graph g;
  private final Map<String, String> int32Masks = new HashMap<>();

  private AttentionFusion(OnnxModel model) {
    this.model = model;
    this.g = model.graph();
  }

  /** Fuses every self-attention block of {@code model} in place and returns how many it fused. */
  static int apply(OnnxModel model) {
    AttentionFusion f = new AttentionFusion(model);
    int fused = 0;
    for (Node softmax : new ArrayList<>(f.g.nodes())) {
      if (softmax.opType().equals("Softmax") && softmax.domain().isEmpty()) {
        Block b = f.match(softmax);
        if (b != null) {
          f.rewrite(b);
          fused++;
        }
      }
    }
    if (fused > 0) {
      f.removeDeadNodes();
      f.g.removeUnusedInitializers();
      f.g.sortTopologically();
    }
    return fused;
  }

  /** One projection: x · W + b, reshaped to [batch, sequence, heads, head size] and transposed. */
  private record Projection(
      String input, Node matMul, Node add, Node reshape, Node transpose, float[] w, float[] b) {}

  /** The matched nodes of one block and what the fused node needs. */
  private record Block(
      Projection q,
      Projection k,
      Projection v,
      List<Node> inner,
      String rawMask,
      String output,
      int heads,
      int headSize,
      int inputHidden,
      float scale) {}

  private @Nullable Block match(Node softmax) {
    long axis = softmax.intAttribute("axis", -1);
    if (axis != -1 && axis != 3) {
      return null;
    }
    Node add = sole(softmax.input(0), "Add");
    if (add == null) {
      return null;
    }
    for (int side = 0; side < 2; side++) {
      Block b = match(softmax, add, add.input(side), add.input(1 - side));
      if (b != null) {
        return b;
      }
    }
    return null;
  }

  private @Nullable Block match(Node softmax, Node add, String scores, String mask) {
    String rawMask = rawMask(mask);
    if (rawMask == null) {
      return null;
    }
    List<Node> inner = new ArrayList<>(List.of(add, softmax));
    Node product = sole(scores, null);
    if (product == null) {
      return null;
    }
    float scale = 1f;
    if (product.opType().equals("Div") || product.opType().equals("Mul")) {
      Float c = scalar(product.input(1));
      if (c == null || c == 0f) {
        return null;
      }
      scale = product.opType().equals("Div") ? 1f / c : c;
      inner.add(product);
      product = sole(product.input(0), "MatMul");
      if (product == null) {
        return null;
      }
    }
    boolean transB;
    if (product.opType().equals("FusedMatMul")
        && product.domain().equals(OnnxModel.MICROSOFT_DOMAIN)) {
      if (product.intAttribute("transA", 0) != 0
          || product.intAttribute("transBatchA", 0) != 0
          || product.intAttribute("transBatchB", 0) != 0) {
        return null;
      }
      scale *= product.floatAttribute("alpha", 1f);
      transB = product.intAttribute("transB", 0) == 1;
    } else if (product.opType().equals("MatMul") && product.domain().isEmpty()) {
      transB = false;
    } else {
      return null;
    }
    inner.add(product);
    Projection q = projection(product.input(0), List.of(0L, 2L, 1L, 3L));
    Projection k =
        projection(product.input(1), transB ? List.of(0L, 2L, 1L, 3L) : List.of(0L, 2L, 3L, 1L));
    List<Node> readers = g.consumers(softmax.output(0));
    if (q == null || k == null || readers.size() != 1 || g.isGraphOutput(softmax.output(0))) {
      return null;
    }
    Node pv = readers.get(0);
    if (!pv.opType().equals("MatMul")
        || !pv.domain().isEmpty()
        || !pv.input(0).equals(softmax.output(0))) {
      return null;
    }
    Projection v = projection(pv.input(1), List.of(0L, 2L, 1L, 3L));
    Node back = only(pv.output(0), "Transpose");
    if (v == null || back == null || !back.intsAttribute("perm").equals(List.of(0L, 2L, 1L, 3L))) {
      return null;
    }
    Node merge = only(back.output(0), "Reshape");
    if (merge == null) {
      return null;
    }
    inner.addAll(List.of(pv, back, merge));
    long[] heads = shape(q.reshape());
    long hidden = q.b().length;
    if (!q.input().equals(k.input())
        || !q.input().equals(v.input())
        || heads == null
        || k.b().length != hidden
        || v.b().length != hidden
        || !Arrays.equals(heads, shape(k.reshape()))
        || !Arrays.equals(heads, shape(v.reshape()))
        || heads[2] * heads[3] != hidden) {
      return null;
    }
    long[] merged = shape(merge);
    if (merged == null || merged.length != 3 || (merged[2] != hidden && merged[2] != -1)) {
      return null;
    }
    int inputHidden = q.w().length / (int) hidden;
    return new Block(
        q,
        k,
        v,
        inner,
        rawMask,
        merge.output(0),
        (int) heads[2],
        (int) heads[3],
        inputHidden,
        scale);
  }

  /**
   * The projection feeding {@code tensor}: Transpose({@code perm}) ← Reshape to [0|-1, 0|-1, heads,
   * head size] ← Add(constant bias) ← MatMul(x, constant weight), each read only there.
   */
  private @Nullable Projection projection(String tensor, List<Long> perm) {
    Node t = sole(tensor, "Transpose");
    if (t == null || !t.intsAttribute("perm").equals(perm)) {
      return null;
    }
    Node r = sole(t.input(0), "Reshape");
    if (r == null) {
      return null;
    }
    long[] s = shape(r);
    if (s == null || s.length != 4 || s[0] > 0 || s[1] > 0 || s[2] <= 0 || s[3] <= 0) {
      return null;
    }
    Node add = sole(r.input(0), "Add");
    if (add == null) {
      return null;
    }
    for (int side = 0; side < 2; side++) {
      Optional<TensorProto> bias = g.initializer(add.input(1 - side));
      Node mm = sole(add.input(side), "MatMul");
      if (bias.isEmpty() || mm == null) {
        continue;
      }
      Optional<TensorProto> w = g.initializer(mm.input(1));
      if (w.isEmpty()
          || w.get().getDataType() != DataType.FLOAT.code()
          || bias.get().getDataType() != DataType.FLOAT.code()) {
        return null;
      }
      long[] wd = TensorCodec.dims(w.get());
      long[] bd = TensorCodec.dims(bias.get());
      if (wd.length != 2 || bd.length != 1 || bd[0] != wd[1]) {
        return null;
      }
      return new Projection(
          mm.input(0), mm, add, r, t, model.floats(mm.input(1)), model.floats(add.input(1 - side)));
    }
    return null;
  }

  /**
   * The graph input of the 0/1 mask that {@code additive} is made from (Unsqueeze, Cast, Sub from
   * one, Mul by a large negative constant, as Hugging Face exports it), or null.
   */
  private @Nullable String rawMask(String additive) {
    String t = additive;
    boolean negated = false;
    boolean subtracted = false;
    for (int depth = 0; depth < 8; depth++) {
      String name = t;
      if (g.inputs().stream().anyMatch(i -> i.getName().equals(name))) {
        return negated && subtracted && rank(t) == 2 ? t : null;
      }
      Optional<Node> p = g.producer(t);
      if (p.isEmpty()) {
        return null;
      }
      Node n = p.get();
      switch (n.opType()) {
        case "Unsqueeze", "Cast" -> {}
        case "Sub" -> {
          Float one = scalar(n.input(0));
          if (one == null || one != 1f || !n.domain().isEmpty()) {
            return null;
          }
          subtracted = true;
          t = n.input(1);
          continue;
        }
        case "Mul" -> {
          int c = scalar(n.input(1)) != null ? 1 : 0;
          Float f = scalar(n.input(c));
          if (f == null || f > -1e4f) {
            return null;
          }
          negated = true;
          t = n.input(1 - c);
          continue;
        }
        default -> {
          return null;
        }
      }
      t = n.input(0);
    }
    return null;
  }

  private void rewrite(Block b) {
    int d = b.inputHidden();
    int h = b.q().b().length;
    float[] w = new float[d * 3 * h];
    float[] bias = new float[3 * h];
    Projection[] qkv = {b.q(), b.k(), b.v()};
    for (int p = 0; p < 3; p++) {
      for (int row = 0; row < d; row++) {
        System.arraycopy(qkv[p].w(), row * h, w, row * 3 * h + p * h, h);
      }
      System.arraycopy(qkv[p].b(), 0, bias, p * h, h);
    }
    String base = b.q().matMul().name();
    int cut = base.lastIndexOf("/query/");
    String prefix = cut > 0 ? base.substring(0, cut) : b.output();
    String wName = g.uniqueName(prefix + "/qkv_weight");
    String bName = g.uniqueName(prefix + "/qkv_bias");
    g.putInitializer(TensorCodec.fromFloats(wName, new long[] {d, 3L * h}, w));
    g.putInitializer(TensorCodec.fromFloats(bName, new long[] {3L * h}, bias));
    Node attention =
        Node.of(
            "Attention",
            g.uniqueName(prefix + "/Attention"),
            List.of(b.q().input(), wName, bName, int32Mask(b.rawMask())),
            List.of(b.output()));
    attention.setDomain(OnnxModel.MICROSOFT_DOMAIN);
    attention.setAttribute(Node.intAttr("num_heads", b.heads()));
    float standard = (float) (1 / Math.sqrt(b.headSize()));
    if (Math.abs(b.scale() - standard) > 1e-6f * standard) {
      attention.setAttribute(
          AttributeProto.newBuilder()
              .setName("scale")
              .setType(AttributeProto.AttributeType.FLOAT)
              .setF(b.scale())
              .build());
    }
    for (Node n : b.inner()) {
      g.removeNode(n);
    }
    for (Projection p : qkv) {
      for (Node n : List.of(p.transpose(), p.reshape(), p.add(), p.matMul())) {
        g.removeNode(n);
      }
    }
    g.addNode(attention);
  }

  /** The 0/1 mask input as int32, which Attention takes (one Cast per mask input). */
  private String int32Mask(String raw) {
    return int32Masks.computeIfAbsent(
        raw,
        m -> {
          String out = g.uniqueName(m + "_int32");
          Node cast = Node.of("Cast", g.uniqueName(m + "_Cast_int32"), List.of(m), List.of(out));
          cast.setAttribute(Node.intAttr("to", DataType.INT32.code()));
          g.addNode(cast);
          return out;
        });
  }

  /** Removes nodes none of whose outputs is read or a graph output (the old additive mask). */
  private void removeDeadNodes() {
    boolean removed = true;
    while (removed) {
      removed = false;
      for (Node n : new ArrayList<>(g.nodes())) {
        if (n.outputs().stream().allMatch(o -> g.consumers(o).isEmpty() && !g.isGraphOutput(o))) {
          g.removeNode(n);
          removed = true;
        }
      }
    }
  }

  /** The producer of {@code tensor} when it has type {@code op} (any when null), read only once. */
  private @Nullable Node sole(String tensor, @Nullable String op) {
    Optional<Node> p = g.producer(tensor);
    if (p.isEmpty()
        || (op != null && (!p.get().opType().equals(op) || !p.get().domain().isEmpty()))
        || g.consumers(tensor).size() != 1
        || g.isGraphOutput(tensor)) {
      return null;
    }
    return p.get();
  }

  /** The single reader of {@code tensor} when it has type {@code op}. */
  private @Nullable Node only(String tensor, String op) {
    List<Node> readers = g.consumers(tensor);
    if (readers.size() != 1 || g.isGraphOutput(tensor)) {
      return null;
    }
    Node n = readers.get(0);
    return n.opType().equals(op) && n.domain().isEmpty() && n.input(0).equals(tensor) ? n : null;
  }

  /** The constant target shape of a Reshape, or null. */
  private long @Nullable [] shape(Node reshape) {
    Optional<TensorProto> s = g.initializer(reshape.input(1));
    if (s.isEmpty() || s.get().getDataType() != DataType.INT64.code()) {
      return null;
    }
    return TensorCodec.toLongs(s.get(), model.externalData());
  }

  private @Nullable Float scalar(String tensor) {
    Optional<TensorProto> t = g.initializer(tensor);
    if (t.isEmpty() || TensorCodec.elementCount(t.get()) != 1) {
      return null;
    }
    return model.floats(tensor)[0];
  }

  private int rank(String input) {
    return g.typeOf(input).filter(TensorType::rankKnown).map(TensorType::rank).orElse(-1);
  }
}

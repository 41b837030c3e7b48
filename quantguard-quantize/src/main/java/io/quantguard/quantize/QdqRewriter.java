package io.quantguard.quantize;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.Graph;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import io.quantguard.quantize.QdqPlan.Role;
import io.quantguard.quantize.QdqPlan.Slot;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Applies a {@link QdqPlan} to the graph it was made on: inserts the activation quantizer pairs
 * with the scales an {@link ActivationRanges} source gives, stores weights as integers behind a
 * DequantizeLinear (so the saved model really shrinks), and quantizes biases to int32 with scale =
 * input scale × weight scale.
 */
final class QdqRewriter {
  private final OnnxModel model;
  private final Graph g;
  private final QdqPlan plan;
  private final WeightTables tables;
  private final List<String> notes = new ArrayList<>();
  private int weightsQuantized;

  QdqRewriter(OnnxModel model, QdqPlan plan, WeightTables tables) {
    this.model = model;
    this.g = model.graph();
    this.plan = plan;
    this.tables = tables;
  }

  /** What the rewrite noted (shared scales, bias corrections, raised weight scales). */
  List<String> notes() {
    return notes;
  }

  int quantizedWeights() {
    return weightsQuantized;
  }

  /**
   * Inserts the quantizers and integer weights; {@code channels} gives the input means for bias
   * correction.
   */
  void rewrite(ActivationRanges ranges, Map<String, ChannelStatistics> channels) {
    Map<String, QuantParams> params = activationParams(ranges);
    Map<String, String[]> groupInits = new HashMap<>();
    Map<String, String> dequantized = new LinkedHashMap<>();
    for (String t : plan.activations()) {
      QuantParams p = Objects.requireNonNull(params.get(t), t);
      String[] sz = groupInits.computeIfAbsent(plan.groupOf(t), root -> paramInitializers(root, p));
      String q = g.uniqueName(t + "_quantized");
      String dq = g.uniqueName(t + "_dequantized");
      List<Node> consumers = new ArrayList<>(g.consumers(t));
      boolean fuses = producerFuses(t);
      g.addNode(
          Node.of(
              "QuantizeLinear",
              g.uniqueName(t + "_QuantizeLinear"),
              List.of(clipped(t, p), sz[0], sz[1]),
              List.of(q)));
      g.addNode(
          Node.of(
              "DequantizeLinear",
              g.uniqueName(t + "_DequantizeLinear"),
              List.of(q, sz[0], sz[1]),
              List.of(dq)));
      for (Node c : consumers) {
        if (fuses || plan.isQuantized(c) || plan.isPassThrough(c)) {
          c.replaceInput(t, dq);
        }
      }
      dequantized.put(t, dq);
    }
    Map<String, String> weightMemo = new HashMap<>();
    Map<String, QuantParams> paramMemo = new HashMap<>();
    for (Map.Entry<Node, RecipeResolver.NodeSettings> e : plan.quantized().entrySet()) {
      Node n = e.getKey();
      RecipeResolver.NodeSettings s = e.getValue();
      List<Slot> slots = new ArrayList<>(QdqPlan.slots(g, n));
      QuantParams weightParams = null;
      for (Slot sl : slots) {
        if (sl.role() != Role.WEIGHT) {
          continue;
        }
        if (n.opType().equals("Gather")) {
          if (tables.quantize(n, s.weights())) {
            weightsQuantized++;
          }
          continue;
        }
        String w = n.input(sl.input());
        WeightSettings ws = s.weights();
        int axis = ws.perChannel() ? sl.axis() : -1;
        String key = w + "|" + axis + "|" + ws;
        String existing = weightMemo.get(key);
        if (existing != null) {
          if (sl.input() == 1 && ws.biasCorrection()) {
            correctBias(
                n, slots, sl, Objects.requireNonNull(paramMemo.get(key)), channels, dequantized);
          }
          n.setInput(sl.input(), existing);
          continue;
        }
        Scheme scheme = ws.scheme();
        TensorProto wt = model.requireInitializer(w);
        long[] dims = TensorCodec.dims(wt);
        float[] values = model.floats(w);
        QuantParams p =
            scheme.params(
                WeightRanges.of(values, dims, axis, scheme, ws.method(), ws.percentile()), axis);
        Slot bias = slots.stream().filter(x -> x.role() == Role.BIAS).findFirst().orElse(null);
        if (bias != null && sl.input() == 1) {
          p = guardBias(n, bias, p, params.get(dequantizedSource(n, dequantized)));
        }
        if (sl.input() == 1 && ws.biasCorrection()) {
          correctBias(n, slots, sl, p, channels, dequantized);
        }
        String dq = weightDequantizer(w, p, values, dims);
        weightMemo.put(key, dq);
        paramMemo.put(key, p);
        n.setInput(sl.input(), dq);
        if (sl.input() == 1) {
          weightParams = p;
        }
      }
      for (Slot sl : slots) {
        if (sl.role() == Role.BIAS && weightParams != null) {
          QuantParams in = params.get(dequantizedSource(n, dequantized));
          quantizeBias(n, sl, in, weightParams);
        }
      }
    }
    g.removeUnusedInitializers();
    g.sortTopologically();
  }

  /**
   * The original (float) name of a node's input 0, before it was rewired to a dequantized tensor.
   */
  private static String dequantizedSource(Node n, Map<String, String> dequantized) {
    String in = n.input(0);
    for (Map.Entry<String, String> e : dequantized.entrySet()) {
      if (e.getValue().equals(in)) {
        return e.getKey();
      }
    }
    return in;
  }

  /**
   * {@code t} clipped to the grid of a scheme narrower than its type, [(qmin − z)·s, (qmax − z)·s],
   * since QuantizeLinear saturates only at the type's limits; {@code t} itself otherwise. ONNX
   * Runtime keeps such a Clip (it drops only one that the quantizer's own saturation makes
   * redundant), so its producer runs in float, and the values are those the grid allows.
   */
  private String clipped(String t, QuantParams p) {
    Scheme s = p.scheme();
    if (!s.narrowed()) {
      return t;
    }
    String lo = g.uniqueName(t + "_grid_min");
    String hi = g.uniqueName(t + "_grid_max");
    float scale = p.scale()[0];
    int zero = p.zeroPoint()[0];
    g.putInitializer(
        TensorCodec.fromFloats(lo, new long[0], new float[] {(s.qmin() - zero) * scale}));
    g.putInitializer(
        TensorCodec.fromFloats(hi, new long[0], new float[] {(s.qmax() - zero) * scale}));
    String out = g.uniqueName(t + "_clipped");
    g.addNode(Node.of("Clip", g.uniqueName(t + "_Clip"), List.of(t, lo, hi), List.of(out)));
    return out;
  }

  private boolean producerFuses(String t) {
    Optional<Node> p = g.producer(t);
    if (p.isEmpty()) {
      return false;
    }
    Node pn = p.get();
    if (plan.isQuantized(pn) || plan.isPassThrough(pn)) {
      return true;
    }
    if (QdqPlan.FOLDED.contains(pn.opType())) {
      Optional<Node> pp = g.producer(pn.input(0));
      return pp.isPresent() && plan.isQuantized(pp.get()) && g.consumers(pn.input(0)).size() == 1;
    }
    return false;
  }

  private String[] paramInitializers(String base, QuantParams p) {
    String s = g.uniqueName(base + "_scale");
    String z = g.uniqueName(base + "_zero_point");
    putParams(s, z, p);
    return new String[] {s, z};
  }

  private void putParams(String s, String z, QuantParams p) {
    long[] dims = p.perChannel() ? new long[] {p.channels()} : new long[0];
    g.putInitializer(TensorCodec.fromFloats(s, dims, p.scale()));
    g.putInitializer(TensorCodec.fromInts(z, p.scheme().type(), dims, p.zeroPoint()));
  }

  private String weightDequantizer(String w, QuantParams p, float[] values, long[] dims) {
    String q = g.uniqueName(w + "_quantized");
    String s = g.uniqueName(w + "_scale");
    String z = g.uniqueName(w + "_zero_point");
    g.putInitializer(TensorCodec.fromInts(q, p.scheme().type(), dims, p.quantize(values, dims)));
    putParams(s, z, p);
    String dq = g.uniqueName(w + "_dequantized");
    Node node =
        Node.of(
            "DequantizeLinear",
            g.uniqueName(w + "_DequantizeLinear"),
            List.of(q, s, z),
            List.of(dq));
    if (p.perChannel()) {
      node.setAttribute(Node.intAttr("axis", p.axis()));
    }
    g.addNode(node);
    weightsQuantized++;
    return dq;
  }

  /**
   * Replaces the bias of a Conv, Gemm or MatMul(+Add) by b − ΔW·E[x] ({@link BiasCorrection}),
   * while the node still reads its float weight. Conv and Gemm without a bias get one (added to
   * {@code slots}, so it is quantized to int32 like any bias); a MatMul without a following
   * constant Add is left alone, with a note.
   */
  private void correctBias(
      Node n,
      List<Slot> slots,
      Slot weight,
      QuantParams p,
      Map<String, ChannelStatistics> channels,
      Map<String, String> dequantized) {
    String op = n.opType();
    if (!Set.of("Conv", "Gemm", "MatMul").contains(op)) {
      return; // bias_correction is a weight setting; other operators have no bias to correct
    }
    String in = dequantizedSource(n, dequantized);
    ChannelStatistics.Layout layout = QdqPlan.channelLayout(g, n);
    if (layout == null) {
      notes.add(
          "node '" + n.name() + "': no bias correction (it does not multiply x by a constant W)");
      return;
    }
    SmoothQuant.Smoothed smoothed = plan.smoothing().tensors().get(in);
    String source = plan.smoothing().source(in);
    ChannelStatistics cs = channels.get(source);
    if (cs == null || cs.channels() != layout.channels() || cs.axis() != layout.axis()) {
      throw SmoothQuant.missingChannels(n, source, "bias-corrects");
    }
    double[] mu = new double[cs.channels()];
    for (int k = 0; k < mu.length; k++) {
      mu[k] = cs.mean(k) / (smoothed != null ? smoothed.factors()[k] : 1f);
    }
    String w = n.input(weight.input());
    long[] dims = TensorCodec.dims(model.requireInitializer(w));
    float[] values = model.floats(w);
    float[] dq = p.dequantize(p.quantize(values, dims), dims);
    double[] shift =
        op.equals("Conv")
            ? BiasCorrection.convShift(values, dq, dims, n.intAttribute("group", 1), mu)
            : BiasCorrection.matMulShift(values, dq, dims, SmoothQuant.transposed(n), mu);
    double factor = 1;
    Node target = n;
    int biasInput = 2;
    if (op.equals("Gemm")) {
      float beta = n.floatAttribute("beta", 1f);
      if (beta == 0f) {
        notes.add("node '" + n.name() + "': no bias correction (Gemm with beta = 0)");
        return;
      }
      factor = n.floatAttribute("alpha", 1f) / (double) beta;
    } else if (op.equals("MatMul")) {
      target = BiasFolding.foldableAdd(g, n.output(0), shift.length);
      if (target == null) {
        notes.add(
            "node '"
                + n.name()
                + "': no bias correction (a MatMul corrects the bias of a following Add with a"
                + " constant vector, and it has none)");
        return;
      }
      biasInput = g.isInitializer(target.input(0)) ? 0 : 1;
    }
    String b = target.input(biasInput);
    float[] bias = null;
    if (!b.isEmpty()) {
      if (!QdqPlan.isFloatInitializer(g, b)) {
        notes.add("node '" + n.name() + "': no bias correction (its bias '" + b + "' is computed)");
        return;
      }
      TensorProto bt = model.requireInitializer(b);
      if (TensorCodec.elementCount(bt) != shift.length) {
        notes.add(
            "node '"
                + n.name()
                + "': no bias correction (its bias '"
                + b
                + "' is not a vector of "
                + shift.length
                + ")");
        return;
      }
      bias = model.floats(b);
    }
    String name = g.uniqueName((b.isEmpty() ? n.name() + "_bias" : b) + "_corrected");
    long[] bdims =
        b.isEmpty() ? new long[] {shift.length} : TensorCodec.dims(g.initializer(b).get());
    g.putInitializer(
        TensorCodec.fromFloats(name, bdims, BiasCorrection.corrected(bias, shift, factor)));
    target.setInput(biasInput, name);
    if (b.isEmpty()) {
      boolean plain =
          op.equals("Conv")
              || (n.floatAttribute("alpha", 1f) == 1f && n.floatAttribute("beta", 1f) == 1f);
      if (plain) {
        slots.add(new Slot(2, Role.BIAS, weight.axis() >= 0 ? 0 : -1));
      }
      notes.add("node '" + n.name() + "': added a bias for bias correction");
    }
  }

  /**
   * Raises a channel's weight scale where the int32 bias would overflow: bias / (s_x · s_w) must
   * stay within ±(2³¹ − 1). Only channels with tiny weights and a large bias are affected.
   */
  private QuantParams guardBias(Node n, Slot bias, QuantParams w, @Nullable QuantParams x) {
    if (x == null) {
      return w;
    }
    float[] b = model.floats(n.input(bias.input()));
    float[] ws = w.scale().clone();
    int raised = 0;
    for (int c = 0; c < b.length; c++) {
      float sw = ws[w.perChannel() ? c : 0];
      double limit = (double) Integer.MAX_VALUE * x.scale()[0] * sw;
      if (Math.abs(b[c]) > limit) {
        ws[w.perChannel() ? c : 0] =
            (float) (Math.abs(b[c]) / ((double) Integer.MAX_VALUE * x.scale()[0]) * 1.0001);
        raised++;
      }
    }
    if (raised == 0) {
      return w;
    }
    notes.add(
        "node '"
            + n.name()
            + "': raised the weight scale of "
            + raised
            + " channel(s) so the int32 bias does not overflow");
    return new QuantParams(w.scheme(), ws, w.zeroPoint(), w.axis());
  }

  private void quantizeBias(Node n, Slot sl, @Nullable QuantParams in, QuantParams w) {
    if (in == null) {
      notes.add("node '" + n.name() + "': bias kept in float (its input is not quantized)");
      return;
    }
    String b = n.input(sl.input());
    float[] values = model.floats(b);
    long[] dims = TensorCodec.dims(model.requireInitializer(b));
    int channels = w.perChannel() ? w.channels() : 1;
    float[] scale = new float[channels];
    for (int c = 0; c < channels; c++) {
      scale[c] = in.scale()[0] * w.scale()[c];
    }
    int[] q = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      float s = scale[w.perChannel() ? i : 0];
      double v = Math.rint(values[i] / s);
      if (Math.abs(v) > Integer.MAX_VALUE) {
        notes.add("node '" + n.name() + "': bias kept in float (int32 overflow)");
        return;
      }
      q[i] = (int) v;
    }
    String qn = g.uniqueName(b + "_quantized");
    String sn = g.uniqueName(b + "_scale");
    String zn = g.uniqueName(b + "_zero_point");
    long[] pdims = w.perChannel() ? new long[] {channels} : new long[0];
    g.putInitializer(TensorCodec.fromInts(qn, DataType.INT32, dims, q));
    g.putInitializer(TensorCodec.fromFloats(sn, pdims, scale));
    g.putInitializer(TensorCodec.fromInts(zn, DataType.INT32, pdims, new int[channels]));
    String dq = g.uniqueName(b + "_dequantized");
    Node node =
        Node.of(
            "DequantizeLinear",
            g.uniqueName(b + "_DequantizeLinear"),
            List.of(qn, sn, zn),
            List.of(dq));
    if (w.perChannel()) {
      node.setAttribute(Node.intAttr("axis", 0));
    }
    g.addNode(node);
    n.setInput(sl.input(), dq);
  }

  /** The parameters of every planned tensor, one set per group that shares a scale. */
  private Map<String, QuantParams> activationParams(ActivationRanges ranges) {
    for (QdqPlan.Group group : plan.groups()) {
      for (String m : group.members()) {
        if (!plan.tensorSettings(m).equals(group.settings())) {
          notes.add(
              "tensor '"
                  + m
                  + "' shares its scale with '"
                  + group.anchor()
                  + "' and takes its settings");
        }
      }
    }
    Map<String, QuantParams> params = new HashMap<>();
    for (QdqPlan.Group group : plan.groups()) {
      QuantParams p = ranges.params(group);
      for (String m : group.members()) {
        params.put(m, p);
      }
    }
    return params;
  }
}

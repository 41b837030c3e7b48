package io.quantguard.onnx;

import io.quantguard.onnx.proto.Onnx.TensorProto;
import io.quantguard.onnx.proto.Onnx.ValueInfoProto;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What a model is, at a glance: format versions, interface, operator mix, parameters by type, where
 * its weights live, and whether (and how) it is already quantized. The quantization verdict reads
 * the graph itself, not metadata, so it also recognizes models quantized by other tools.
 */
public record ModelSummary(
    long irVersion,
    Map<String, Long> opsets,
    String producer,
    List<Port> inputs,
    List<Port> outputs,
    int nodeCount,
    Map<String, Integer> opCounts,
    long parameterCount,
    long parameterBytes,
    Map<String, DtypeShare> parametersByType,
    List<String> externalDataFiles,
    long externalDataBytes,
    Quantization quantization,
    Map<String, String> metadata) {

  /** A graph input or output. */
  public record Port(String name, String type) {}

  /** Parameters of one element type. */
  public record DtypeShare(int tensors, long elements, long bytes) {}

  /** How the model is quantized, judged from its operators and weight types. */
  public record Quantization(
      boolean quantized,
      String scheme,
      int quantizeLinear,
      int dequantizeLinear,
      Map<String, Integer> integerOps,
      List<String> notes) {}

  /** Operators that compute on integers or packed low-bit weights. */
  private static final Set<String> INTEGER_OPS =
      Set.of(
          "MatMulInteger",
          "ConvInteger",
          "DynamicQuantizeLinear",
          "QLinearConv",
          "QLinearMatMul",
          "QLinearAdd",
          "QLinearMul",
          "QLinearConcat",
          "QLinearAveragePool",
          "QLinearGlobalAveragePool",
          "QLinearLeakyRelu",
          "QLinearSigmoid",
          "QLinearSoftmax",
          "QGemm",
          "QAttention",
          "QEmbedLayerNormalization",
          "DynamicQuantizeMatMul",
          "DynamicQuantizeLSTM",
          "MatMulIntegerToFloat",
          "MatMulNBits",
          "GatherBlockQuantized",
          "QOrderedMatMul");

  public static ModelSummary of(OnnxModel model) {
    Graph g = model.graph();
    Map<String, Integer> ops = new LinkedHashMap<>();
    for (Node n : g.nodes()) {
      String key =
          n.domain().isEmpty() || n.domain().equals("ai.onnx")
              ? n.opType()
              : n.domain() + ":" + n.opType();
      ops.merge(key, 1, Integer::sum);
    }
    Map<String, Integer> sortedOps = new LinkedHashMap<>();
    ops.entrySet().stream()
        .sorted(
            Map.Entry.<String, Integer>comparingByValue()
                .reversed()
                .thenComparing(Map.Entry.comparingByKey()))
        .forEach(e -> sortedOps.put(e.getKey(), e.getValue()));

    Map<String, DtypeShare> byType = new TreeMap<>();
    long params = 0;
    long bytes = 0;
    Set<String> externalFiles = new LinkedHashSet<>();
    long externalBytes = 0;
    for (TensorProto t : g.initializers().values()) {
      DataType type = DataType.fromCode(t.getDataType());
      long n = TensorCodec.elementCount(t);
      long b = TensorCodec.storageBytes(t);
      params += n;
      bytes += b;
      byType.merge(
          type.displayName(),
          new DtypeShare(1, n, b),
          (x, y) ->
              new DtypeShare(
                  x.tensors() + y.tensors(), x.elements() + y.elements(), x.bytes() + y.bytes()));
      if (ExternalData.isExternal(t)) {
        externalFiles.add(model.externalData().location(t).file());
        externalBytes += b;
      }
    }
    return new ModelSummary(
        model.irVersion(),
        model.opsets(),
        (model.producerName() + " " + model.producerVersion()).trim(),
        ports(g.runtimeInputs()),
        ports(g.outputs()),
        g.nodes().size(),
        sortedOps,
        params,
        bytes,
        byType,
        List.copyOf(externalFiles),
        externalBytes,
        quantization(g, ops, byType),
        model.metadata());
  }

  private static List<Port> ports(List<ValueInfoProto> vis) {
    List<Port> out = new ArrayList<>();
    for (ValueInfoProto v : vis) {
      out.add(
          new Port(
              v.getName(), TensorType.from(v).map(TensorType::toString).orElse("(not a tensor)")));
    }
    return out;
  }

  private static Quantization quantization(
      Graph g, Map<String, Integer> ops, Map<String, DtypeShare> byType) {
    int q = ops.getOrDefault("QuantizeLinear", 0);
    int dq = ops.getOrDefault("DequantizeLinear", 0);
    Map<String, Integer> integer = new TreeMap<>();
    ops.forEach(
        (op, count) -> {
          String bare = op.contains(":") ? op.substring(op.indexOf(':') + 1) : op;
          if (INTEGER_OPS.contains(bare)) {
            integer.put(op, count);
          }
        });
    List<String> notes = new ArrayList<>();
    List<String> schemes = new ArrayList<>();
    boolean dynamic = integer.keySet().stream().anyMatch(o -> o.contains("DynamicQuantize"));
    if (dynamic) {
      schemes.add("dynamic int8 (activations quantized at run time)");
    }
    if (integer.keySet().stream().anyMatch(o -> o.contains("QLinear") || o.endsWith("QGemm"))) {
      schemes.add("static int8, QOperator format");
    }
    if (integer.keySet().stream()
        .anyMatch(o -> o.endsWith("MatMulNBits") || o.endsWith("GatherBlockQuantized"))) {
      schemes.add("weight-only block quantization (MatMulNBits)");
    }
    int dqOnWeights = 0;
    for (Node n : g.nodes()) {
      if (n.opType().equals("DequantizeLinear") && g.isInitializer(n.input(0))) {
        dqOnWeights++;
      }
    }
    if (q > 0 && dq > 0) {
      schemes.add("static, QDQ format (" + q + " QuantizeLinear / " + dq + " DequantizeLinear)");
    } else if (dq > 0 && dqOnWeights == dq) {
      schemes.add("weight-only, QDQ format (" + dq + " DequantizeLinear on weights)");
    }
    long lowBitWeights = 0;
    for (String t : List.of("int8", "uint8", "int4", "uint4", "int16", "uint16", "int2", "uint2")) {
      DtypeShare s = byType.get(t);
      if (s != null) {
        lowBitWeights += s.elements();
        notes.add(s.tensors() + " " + t + " weight tensors (" + s.elements() + " values)");
      }
    }
    DtypeShare f16 = byType.get("float16");
    DtypeShare f32 = byType.get("float");
    if (f16 != null && (f32 == null || f16.elements() > f32.elements())) {
      schemes.add("float16 weights");
    }
    boolean quantized = !schemes.isEmpty() || !integer.isEmpty();
    if (!quantized && lowBitWeights > 0) {
      notes.add(
          "integer initializers present but no quantized operators (likely indices or shapes)");
    }
    String scheme =
        schemes.isEmpty()
            ? (integer.isEmpty() ? "none (full precision)" : "integer operators")
            : String.join("; ", schemes);
    return new Quantization(quantized, scheme, q, dq, integer, notes);
  }

  /** The op types sorted by count, as "Op×n" fragments, for one-line displays. */
  public String opMix(int limit) {
    List<String> parts = new ArrayList<>();
    opCounts.entrySet().stream()
        .sorted(Comparator.comparing((Map.Entry<String, Integer> e) -> -e.getValue()))
        .limit(limit)
        .forEach(e -> parts.add(e.getKey() + "×" + e.getValue()));
    return String.join(", ", parts);
  }
}

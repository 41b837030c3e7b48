package io.quantguard.evaluate.bench;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Where one model's inference time goes, by ONNX Runtime's profiler: kernel time per operator type
 * and per node, averaged over the profiled runs, and how much of it still computes in float. It
 * answers "why is my quantized model not faster": a model whose time sits in {@code
 * DequantizeLinear} and float {@code MatMul} nodes gained little from its int8 weights.
 *
 * @param model the model's label
 * @param batchSize samples per run
 * @param runs profiled runs the figures summarize (warm-up runs left out)
 * @param kernelMsPerRun kernel time per run, summed over all nodes (each node's fastest call; less
 *     than the wall time of a run, which also copies inputs and outputs and schedules the nodes)
 * @param opTypes time per operator type, most first
 * @param nodes the nodes that take the most time, most first (at most {@value #TOP_NODES})
 * @param floatShare share of the kernel time in nodes that compute in floating point
 * @param integerShare share in nodes that compute in integers (QLinearConv, MatMulInteger, ...) or
 *     move 8-bit data (a MaxPool or Transpose of uint8)
 * @param conversionShare share in nodes that convert between them (QuantizeLinear,
 *     DequantizeLinear, DynamicQuantizeLinear, Cast)
 */
public record OperatorProfile(
    String model,
    int batchSize,
    int runs,
    double kernelMsPerRun,
    List<Operator> opTypes,
    List<Operator> nodes,
    double floatShare,
    double integerShare,
    double conversionShare) {
  /** How many of the slowest nodes a profile keeps. */
  public static final int TOP_NODES = 15;

  public OperatorProfile {
    opTypes = List.copyOf(opTypes);
    nodes = List.copyOf(nodes);
  }

  /**
   * Time of one operator type or one node.
   *
   * @param name the operator type, or the node's name in the graph ONNX Runtime ran (after its
   *     fusions, so not always a name of the model file)
   * @param opType the operator type
   * @param nodes how many nodes of the type ran (1 for a node)
   * @param msPerRun kernel time per run (a node's fastest call, summed over a type's nodes)
   * @param share of the model's kernel time
   */
  public record Operator(
      String name,
      String opType,
      Arithmetic arithmetic,
      int nodes,
      double msPerRun,
      double share) {}

  /** What a node computes in, from its operator type and input types. */
  public enum Arithmetic {
    /**
     * Integer kernels (QLinear*, Q* contrib operators, *Integer*, DynamicQuantizeMatMul), and any
     * node on 8- or 16-bit integer data without a float input (pooling, transposes of uint8).
     */
    INTEGER,
    /** Conversion between float and integers: (De)QuantizeLinear, DynamicQuantizeLinear, Cast. */
    CONVERSION,
    /** Floating point: any other node with a floating-point input. */
    FLOAT,
    /** Bookkeeping on indices and shapes (int32, int64, bool): no float and no 8-bit input. */
    OTHER;

    private static final Set<String> CONVERSIONS =
        Set.of("QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "Cast");
    private static final Set<String> FLOAT_TYPES = Set.of("float", "float16", "double", "bfloat16");
    private static final Set<String> QUANTIZED_TYPES =
        Set.of("int8", "uint8", "int16", "uint16", "int4", "uint4");

    /**
     * The arithmetic of a node of {@code opType} whose inputs have the given element types (as ONNX
     * Runtime's trace names them: {@code float}, {@code uint8}, ...); unknown types count as float.
     */
    static Arithmetic of(String opType, List<String> inputTypes) {
      if (CONVERSIONS.contains(opType)) {
        return CONVERSION;
      }
      boolean qOperator =
          opType.length() > 1 && opType.charAt(0) == 'Q' && Character.isUpperCase(opType.charAt(1));
      if (qOperator
          || opType.contains("Integer")
          || opType.equals("DynamicQuantizeMatMul")
          || opType.equals("DynamicQuantizeLSTM")) {
        return INTEGER;
      }
      if (inputTypes.isEmpty()
          || inputTypes.stream().anyMatch(t -> FLOAT_TYPES.contains(lower(t)))) {
        return FLOAT;
      }
      if (inputTypes.stream().anyMatch(t -> QUANTIZED_TYPES.contains(lower(t)))) {
        return INTEGER;
      }
      return OTHER;
    }

    private static String lower(String s) {
      return s.toLowerCase(Locale.ROOT);
    }
  }
}

package io.quantguard.onnx;

import io.quantguard.onnx.proto.Onnx.AttributeProto;
import io.quantguard.onnx.proto.Onnx.GraphProto;
import io.quantguard.onnx.proto.Onnx.ModelProto;
import io.quantguard.onnx.proto.Onnx.NodeProto;
import io.quantguard.onnx.proto.Onnx.OperatorSetIdProto;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import io.quantguard.onnx.proto.Onnx.ValueInfoProto;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Small float ONNX models written in one statement, for tests that pin what a pass does to a graph
 * of a few nodes (ONNX Runtime's {@code ModelGenerators} habit): no fixture file, and ONNX Runtime
 * loads the result.
 *
 * <pre>{@code
 * OnnxModel m =
 *     TinyGraph.input("x", -1, 2)                        // float [n, 2]
 *         .gemm("fc", new float[][] {{1, 2, 3}, {4, 5, 6}}, new float[] {0.1f, 0.2f, 0.3f})
 *         .relu("act")
 *         .matMul("proj", 4, 7)                          // a [3, 4] weight, Gaussian, seed 7
 *         .output("y")
 *         .model();
 * }</pre>
 *
 * Each node reads the tensor the previous step wrote (or the one {@link #from} names) and writes a
 * tensor named after itself; constant operands are initializers {@code <node>.weight} and {@code
 * <node>.bias}. A dimension of -1 is the symbolic batch dimension {@code n}. Opset 13, IR version
 * 8.
 */
public final class TinyGraph {
  private final String name;
  private final List<ValueInfoProto> inputs = new ArrayList<>();
  private final List<NodeProto.Builder> nodes = new ArrayList<>();
  private final List<TensorProto> initializers = new ArrayList<>();
  private final List<String> outputs = new ArrayList<>();
  private final Map<String, long[]> shapes = new LinkedHashMap<>();
  private String current;

  private TinyGraph(String name) {
    this.name = name;
  }

  /** A graph named {@code tiny} whose input is a float tensor of the given shape. */
  public static TinyGraph input(String tensor, long... dims) {
    TinyGraph g = new TinyGraph("tiny");
    g.inputs.add(valueInfo(tensor, dims));
    g.shapes.put(tensor, dims.clone());
    g.current = tensor;
    return g;
  }

  /** The next node reads {@code tensor} (an input or an earlier node's output). */
  public TinyGraph from(String tensor) {
    shape(tensor);
    current = tensor;
    return this;
  }

  /** {@code current · W} with W [k, n] of seeded standard Gaussian values, row-major. */
  public TinyGraph matMul(String node, int n, long seed) {
    int k = (int) last(shape(current));
    SplittableRandom rnd = new SplittableRandom(seed);
    float[][] w = new float[k][n];
    for (float[] row : w) {
      for (int j = 0; j < n; j++) {
        row[j] = (float) rnd.nextGaussian();
      }
    }
    return matMul(node, w);
  }

  /** {@code current · W} with the given W [k, n]. */
  public TinyGraph matMul(String node, float[][] w) {
    String weight = constant(node + ".weight", w);
    return node(node, "MatMul", List.of(current, weight), withLast(shape(current), w[0].length));
  }

  /**
   * A 1×1 convolution of {@code current} [n, c, h, w] to {@code out} channels, weights seeded
   * standard Gaussian scaled by 1/√c.
   */
  public TinyGraph conv1x1(String node, int out, long seed) {
    long[] in = shape(current);
    int c = (int) in[1];
    SplittableRandom rnd = new SplittableRandom(seed);
    float[] w = new float[out * c];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (rnd.nextGaussian() / Math.sqrt(c));
    }
    String weight = node + ".weight";
    initializers.add(TensorCodec.fromFloats(weight, new long[] {out, c, 1, 1}, w));
    long[] outShape = in.clone();
    outShape[1] = out;
    return node(node, "Conv", List.of(current, weight), outShape);
  }

  /** {@code current · W + b} as one Gemm (2-D input, W [k, n], b [n]). */
  public TinyGraph gemm(String node, float[][] w, float[] bias) {
    String weight = constant(node + ".weight", w);
    String b = constant(node + ".bias", bias);
    return node(node, "Gemm", List.of(current, weight, b), withLast(shape(current), w[0].length));
  }

  /** {@code current + b}, b broadcast along the last axis. */
  public TinyGraph add(String node, float[] bias) {
    String b = constant(node + ".bias", bias);
    return node(node, "Add", List.of(current, b), shape(current));
  }

  /** {@code current + other}, two tensors of one shape. */
  public TinyGraph add(String node, String other) {
    shape(other);
    return node(node, "Add", List.of(current, other), shape(current));
  }

  public TinyGraph relu(String node) {
    return node(node, "Relu", List.of(current), shape(current));
  }

  /** Softmax along the last axis. */
  public TinyGraph softmax(String node) {
    return node(node, "Softmax", List.of(current), shape(current));
  }

  public TinyGraph transpose(String node, long... perm) {
    long[] in = shape(current);
    long[] out = new long[perm.length];
    for (int i = 0; i < perm.length; i++) {
      out[i] = in[(int) perm[i]];
    }
    node(node, "Transpose", List.of(current), out);
    last(nodes).addAttribute(ints("perm", perm));
    return this;
  }

  /** Concatenates the named tensors along {@code axis}. */
  public TinyGraph concat(String node, int axis, String... tensors) {
    long[] out = shape(tensors[0]).clone();
    for (int i = 1; i < tensors.length; i++) {
      out[axis] += shape(tensors[i])[axis];
    }
    node(node, "Concat", List.of(tensors), out);
    last(nodes).addAttribute(Node.intAttr("axis", axis));
    return this;
  }

  /** Makes the current tensor a graph output named {@code tensor} (renaming it). */
  public TinyGraph output(String tensor) {
    if (!tensor.equals(current)) {
      for (NodeProto.Builder n : nodes) {
        for (int i = 0; i < n.getOutputCount(); i++) {
          if (n.getOutput(i).equals(current)) {
            n.setOutput(i, tensor);
          }
        }
        for (int i = 0; i < n.getInputCount(); i++) {
          if (n.getInput(i).equals(current)) {
            n.setInput(i, tensor);
          }
        }
      }
      shapes.put(tensor, shapes.remove(current));
      current = tensor;
    }
    outputs.add(tensor);
    return this;
  }

  /** The model; without an {@link #output} call, the current tensor is its only output. */
  public ModelProto proto() {
    GraphProto.Builder g = GraphProto.newBuilder().setName(name).addAllInput(inputs);
    nodes.forEach(n -> g.addNode(n.build()));
    g.addAllInitializer(initializers);
    for (String o : outputs.isEmpty() ? List.of(current) : outputs) {
      g.addOutput(valueInfo(o, shape(o)));
    }
    return ModelProto.newBuilder()
        .setIrVersion(8)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
        .setGraph(g)
        .build();
  }

  public OnnxModel model() {
    return OnnxModel.of(proto());
  }

  private TinyGraph node(String node, String op, List<String> in, long[] outShape) {
    if (shapes.containsKey(node)) {
      throw new IllegalArgumentException("tensor '" + node + "' exists already");
    }
    nodes.add(NodeProto.newBuilder().setName(node).setOpType(op).addAllInput(in).addOutput(node));
    shapes.put(node, outShape);
    current = node;
    return this;
  }

  private String constant(String tensor, float[][] w) {
    float[] flat = new float[w.length * w[0].length];
    for (int r = 0; r < w.length; r++) {
      System.arraycopy(w[r], 0, flat, r * w[0].length, w[0].length);
    }
    initializers.add(TensorCodec.fromFloats(tensor, new long[] {w.length, w[0].length}, flat));
    return tensor;
  }

  private String constant(String tensor, float[] v) {
    initializers.add(TensorCodec.fromFloats(tensor, new long[] {v.length}, v));
    return tensor;
  }

  private long[] shape(String tensor) {
    long[] s = shapes.get(tensor);
    if (s == null) {
      throw new IllegalArgumentException(
          "no tensor '" + tensor + "' yet; tensors so far: " + shapes.keySet());
    }
    return s;
  }

  private static long[] withLast(long[] dims, long last) {
    long[] out = Arrays.copyOf(dims, dims.length);
    out[out.length - 1] = last;
    return out;
  }

  private static long last(long[] dims) {
    return dims[dims.length - 1];
  }

  private static <T> T last(List<T> list) {
    return list.get(list.size() - 1);
  }

  private static ValueInfoProto valueInfo(String tensor, long[] dims) {
    List<TensorType.Dim> d = new ArrayList<>();
    for (long v : dims) {
      d.add(v < 0 ? TensorType.Dim.symbolic("n") : TensorType.Dim.of(v));
    }
    return new TensorType(DataType.FLOAT, d).toValueInfo(tensor);
  }

  private static AttributeProto ints(String attribute, long... values) {
    AttributeProto.Builder a =
        AttributeProto.newBuilder().setName(attribute).setType(AttributeProto.AttributeType.INTS);
    for (long v : values) {
      a.addInts(v);
    }
    return a.build();
  }
}

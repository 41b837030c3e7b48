package io.quantguard.serve;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.Graph;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorType;
import io.quantguard.onnx.proto.Onnx.ValueInfoProto;
import java.util.List;
import java.util.Optional;

/**
 * What a model takes and returns, read from its ONNX graph: the inputs a caller feeds (graph inputs
 * without an initializer) and the graph outputs. The model metadata endpoint reports it and every
 * request is checked against it before it reaches ONNX Runtime.
 */
public record ModelSignature(List<TensorSpec> inputs, List<TensorSpec> outputs) {
  public ModelSignature {
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
  }

  /** Reads the signature of a loaded model. */
  public static ModelSignature of(OnnxModel model) {
    Graph g = model.graph();
    return new ModelSignature(
        g.runtimeInputs().stream().map(ModelSignature::spec).toList(),
        g.outputs().stream().map(ModelSignature::spec).toList());
  }

  private static TensorSpec spec(ValueInfoProto vi) {
    Optional<TensorType> t = TensorType.from(vi);
    DataType type = t.map(TensorType::elementType).orElse(DataType.UNDEFINED);
    long[] shape = t.filter(TensorType::rankKnown).map(TensorType::shape).orElse(new long[0]);
    return new TensorSpec(vi.getName(), type, shape);
  }

  public Optional<TensorSpec> input(String name) {
    return inputs.stream().filter(s -> s.name().equals(name)).findFirst();
  }

  public Optional<TensorSpec> output(String name) {
    return outputs.stream().filter(s -> s.name().equals(name)).findFirst();
  }

  public List<String> outputNames() {
    return outputs.stream().map(TensorSpec::name).toList();
  }

  /**
   * True when requests can be stacked along the first dimension: every input and every output has
   * it free, so row {@code i} of each output belongs to row {@code i} of the inputs.
   */
  public boolean batchable() {
    return !inputs.isEmpty()
        && inputs.stream().allMatch(TensorSpec::batchDimFree)
        && outputs.stream().allMatch(TensorSpec::batchDimFree);
  }
}

package io.quantguard.onnx;

import io.quantguard.onnx.proto.Onnx.ModelProto;
import io.quantguard.onnx.proto.Onnx.NodeProto;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import io.quantguard.onnx.proto.Onnx.ValueInfoProto;
import java.util.HashSet;
import java.util.Set;

/**
 * Structural checks a model must pass before QuantGuard touches it: the things ONNX Runtime would
 * otherwise reject later with a message that does not name the file. Checks the top-level graph in
 * full (every input defined, single assignment, outputs produced, initializer sizes, external
 * files); subgraphs are left to the runtime.
 */
final class ModelCheck {
  private ModelCheck() {}

  static void check(ModelProto proto, ExternalData external, String model) {
    if (proto.getIrVersion() <= 0) {
      throw bad(model, "has no IR version (ir_version is " + proto.getIrVersion() + ")");
    }
    if (!proto.hasGraph()) {
      throw bad(model, "has no graph");
    }
    if (proto.getIrVersion() >= 3 && proto.getOpsetImportCount() == 0) {
      throw bad(model, "imports no operator set (opset_import is empty)");
    }
    Set<String> defined = new HashSet<>();
    for (ValueInfoProto v : proto.getGraph().getInputList()) {
      if (v.getName().isEmpty()) {
        throw bad(model, "has a graph input without a name");
      }
      defined.add(v.getName());
    }
    for (TensorProto t : proto.getGraph().getInitializerList()) {
      if (t.getName().isEmpty()) {
        throw bad(model, "has an initializer without a name");
      }
      checkTensor(t, external, model);
      defined.add(t.getName());
    }
    Set<String> produced = new HashSet<>();
    int index = 0;
    for (NodeProto n : proto.getGraph().getNodeList()) {
      String label = "node " + index + (n.getName().isEmpty() ? "" : " '" + n.getName() + "'");
      if (n.getOpType().isEmpty()) {
        throw bad(model, label + " has no op_type");
      }
      for (String o : n.getOutputList()) {
        if (!o.isEmpty() && !produced.add(o)) {
          throw bad(
              model,
              label
                  + " ("
                  + n.getOpType()
                  + ") writes '"
                  + o
                  + "', which another node also writes");
        }
      }
      index++;
    }
    Graph graph = new Graph(proto.getGraph());
    try {
      graph.topologicalOrder();
    } catch (IllegalStateException e) {
      throw bad(model, String.valueOf(e.getMessage()));
    }
    defined.addAll(produced);
    index = 0;
    for (Node n : graph.nodes()) {
      for (String i : n.inputs()) {
        if (!i.isEmpty() && !defined.contains(i)) {
          throw bad(
              model,
              "node "
                  + index
                  + " '"
                  + n.name()
                  + "' ("
                  + n.opType()
                  + ") reads '"
                  + i
                  + "', which no input, initializer or node defines");
        }
      }
      index++;
    }
    for (ValueInfoProto o : proto.getGraph().getOutputList()) {
      if (!defined.contains(o.getName())) {
        throw bad(model, "graph output '" + o.getName() + "' is never produced");
      }
    }
  }

  private static void checkTensor(TensorProto t, ExternalData external, String model) {
    DataType type = DataType.fromCode(t.getDataType());
    if (type == DataType.UNDEFINED) {
      throw bad(
          model, "initializer '" + t.getName() + "' has unknown data type " + t.getDataType());
    }
    long count;
    try {
      count = TensorCodec.elementCount(t);
    } catch (ArithmeticException | IllegalArgumentException e) {
      throw bad(model, "initializer '" + t.getName() + "' has invalid dims " + t.getDimsList());
    }
    if (ExternalData.isExternal(t)) {
      external.check(t);
    } else if (t.hasRawData() && type != DataType.STRING) {
      long need = type.storageBytes(count);
      if (t.getRawData().size() != need) {
        throw bad(
            model,
            "initializer '"
                + t.getName()
                + "' holds "
                + t.getRawData().size()
                + " bytes but its shape "
                + t.getDimsList()
                + " and type "
                + type.displayName()
                + " need "
                + need);
      }
    }
  }

  private static InvalidModelException bad(String model, String problem) {
    return new InvalidModelException(
        model,
        "not a valid ONNX model: it " + problem,
        "re-export the model or check that the file is complete");
  }
}

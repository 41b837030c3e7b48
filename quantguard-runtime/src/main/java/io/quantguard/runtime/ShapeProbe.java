package io.quantguard.runtime;

import io.quantguard.onnx.Graph;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Learns the element type and shape of every intermediate tensor by running the model once on ONNX
 * Runtime with all of them exposed. Exported models often carry no value_info at all, and graph
 * passes must know which tensors are float before they insert quantizers.
 */
public final class ShapeProbe {
  private ShapeProbe() {}

  /**
   * Types of every tensor node output (graph outputs included; sequences and maps are left out)
   * from one sample batch (at most its first two samples are run, so shapes reflect that batch
   * size).
   */
  public static Map<String, TensorType> learn(
      OnnxModel model, Map<String, Tensor> sample, SessionConfig config) {
    List<String> tensors = new ArrayList<>();
    for (Node n : model.graph().nodes()) {
      for (String o : n.outputs()) {
        if (!o.isEmpty()) {
          tensors.add(o);
        }
      }
    }
    Map<String, TensorType> out = new LinkedHashMap<>();
    if (tensors.isEmpty()) {
      return out;
    }
    try (InferenceSession s = InferenceSession.open(model, config, tensors)) {
      // Two samples tell every type and rank; a full batch would only copy more intermediates. An
      // input whose batch dimension is fixed gets the batch as it is.
      Map<String, Tensor> small = new LinkedHashMap<>();
      s.bind(sample)
          .forEach(
              (k, v) -> {
                // bind keeps only the model's own input names
                long[] want = Objects.requireNonNull(s.inputs().get(k)).shape();
                boolean free = want == null || want.length == 0 || want[0] < 0;
                small.put(k, free && v.batchSize() > 2 ? v.slice(0, 2) : v);
              });
      out.putAll(s.runForTypes(small, tensors));
    }
    return out;
  }

  /**
   * Declares the learned element types in the model's value_info (rank only, dimensions left free,
   * so other batch sizes and sequence lengths stay valid). Existing declarations are kept.
   */
  public static void annotate(OnnxModel model, Map<String, TensorType> types) {
    Graph g = model.graph();
    types.forEach(
        (name, type) -> {
          if (!g.isGraphOutput(name) && !g.valueInfo().containsKey(name)) {
            List<TensorType.Dim> free = new ArrayList<>();
            for (int i = 0; i < type.rank(); i++) {
              free.add(new TensorType.Dim(-1, null));
            }
            g.putValueInfo(new TensorType(type.elementType(), free).toValueInfo(name));
          }
        });
  }
}

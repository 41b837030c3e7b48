package io.quantguard.serve;

import io.quantguard.runtime.Tensor;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * An inference request as the protocol carries it, decoded and checked against the model it was
 * routed to.
 *
 * @param id the client's request id, echoed in the response; null when absent
 * @param inputs one tensor per model input, in the model's input order
 * @param outputs the outputs to return, in order, each as JSON or binary data
 * @param slice the request parameter {@code slice} (checked by {@link TrafficSlices#check}), or
 *     null
 */
record InferRequest(
    @Nullable String id,
    Map<String, Tensor> inputs,
    List<RequestedOutput> outputs,
    @Nullable String slice) {

  /** One output to return; {@code binary} when the client asked for binary tensor data. */
  record RequestedOutput(String name, boolean binary) {}

  List<String> outputNames() {
    return outputs.stream().map(RequestedOutput::name).toList();
  }
}
